"""Done-when: random mutations of a valid session file, to the loader (here) and to the window (GUI test below):
either the file opens, or nothing changes and there is one message; never another exception; never a freeze
over 1 s (hypothesis' ``deadline`` fails any example that takes longer)."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).parent))
from mutations import mutated_text  # noqa: E402

from gdstudio.core import session as S  # noqa: E402


@settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_text())
def test_the_loader_opens_or_refuses_with_a_session_error(text):
    try:
        s = S.loads(text.encode("utf-8", "surrogatepass"))
    except S.SessionError as exc:
        assert str(exc)
        return
    assert S.loads(S.dumps(s)) == s  # what opens also saves and opens again
