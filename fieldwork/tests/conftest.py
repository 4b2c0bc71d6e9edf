from households.tests.conftest import *  # noqa: F403
