# The mediation app's small city and rooms (fixtures: city, cats, world).
from mediation.tests.conftest import cats, city, world  # noqa: F401
