from psa.testing import (  # noqa: F401 - fixtures
    connect_account,
    cw,
    cw_client,
    encryption_key,
    sim_state,
    simulator,
)
