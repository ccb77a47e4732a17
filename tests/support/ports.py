"""The loopback ports this checkout's tests may bind: one setting, KEYWARD_TEST_PORTS ("first-last").

Every server a test starts (`keyward serve`, the browser tests' server, throwaway PostgreSQL and
Redis) takes its port from here, so checkouts that run their suites side by side on one machine
never collide: give each its own range. A port is handed out once per run (a server that has not
bound it yet keeps it), and only if nothing listens on it.
"""

import os
import socket
import threading

DEFAULT_TEST_PORTS = "18400-18599"

_handed_out: set[int] = set()
_lock = threading.Lock()


def port_range() -> range:
    value = os.environ.get("KEYWARD_TEST_PORTS") or DEFAULT_TEST_PORTS
    low, sep, high = value.partition("-")
    if not sep or not low.strip().isdigit() or not high.strip().isdigit() or int(low) > int(high):
        raise ValueError(f'KEYWARD_TEST_PORTS must look like "18400-18599", not {value!r}')
    return range(int(low), int(high) + 1)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port of KEYWARD_TEST_PORTS that nothing listens on and no earlier call of this run returned."""
    with _lock:
        for port in port_range():
            if port not in _handed_out and _bindable(port):
                _handed_out.add(port)
                return port
        # Every port was handed out once: start again with those free now.
        for port in port_range():
            if _bindable(port):
                _handed_out.clear()
                _handed_out.add(port)
                return port
    raise RuntimeError(f"no free port in KEYWARD_TEST_PORTS ({port_range().start}-{port_range().stop - 1})")
