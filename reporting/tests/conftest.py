from rectification.tests.conftest import *  # noqa: F403
