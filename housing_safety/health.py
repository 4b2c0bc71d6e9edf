"""What /healthz checks for the load balancer: this host reaches its database and, when there is one, its broker.

Cheap on purpose (the benchmark uses /healthz as its baseline): one `SELECT 1` on the connection the request would
use anyway, and one Redis PING over a pooled connection with a short timeout. Failures are logged; the answer
only says which part failed, never an address or a credential.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import redis
from django.conf import settings
from django.db import Error as DatabaseError
from django.db import connection

logger = logging.getLogger(__name__)

OK, FAILED, NOT_CONFIGURED = "ok", "failed", "not configured"
BROKER_TIMEOUT_SECONDS = 1.5


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("health check: the database did not answer: %s", type(error).__name__)
        return FAILED
    return OK


@lru_cache(maxsize=4)
def _broker_client(url: str) -> redis.Redis:
    # One client (and connection pool) per process: a PING reuses an open connection instead of connecting anew.
    # No retries: the load balancer asks again in a few seconds, and a check must answer within its timeout.
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
        retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
    )


def broker_state() -> str:
    url = settings.CELERY_BROKER_URL
    if not url:
        return NOT_CONFIGURED  # a laptop: tasks run inline
    try:
        _broker_client(url).ping()
    except (redis.RedisError, OSError, ValueError) as error:
        logger.warning("health check: the broker did not answer: %s", type(error).__name__)
        return FAILED
    return OK
