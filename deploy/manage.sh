#!/bin/sh
# manage.py with the production environment, for a person on a server or for cron:
#   sudo -u housing /srv/housing-safety/deploy/manage.sh migrate
#   30 2 * * *  housing  /srv/housing-safety/deploy/manage.sh backup      (/etc/cron.d/housing-safety)
set -eu
set -a
. /etc/housing-safety/env
set +a
cd "$(dirname "$0")/.."
exec .venv/bin/python manage.py "$@"
