"""Where a webhook may go: https only, no private, loopback, link-local or reserved destination (checked after
DNS resolution, on the address connected to), no redirects, a bounded read. Refused destinations are
never connected to: the only server any test here reaches is the loopback receiver."""

import ipaddress
from collections.abc import Iterator

import pytest

from app.webhooks import sender
from app.webhooks.destinations import AllowList, IPAddress, parse_allow_list, refusal
from tests.support.api import Api
from tests.support.webhook_receiver import Answer, Receiver, webhook_receiver

CREATE = """mutation($url: String!) { createWebhookEndpoint(input: {url: $url, events: [API_KEY_CREATED]}) {
  webhookEndpoint { id } userErrors { field code message } } }"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as hooks:
        yield hooks


class CountingResolver:
    """DNS for the tests: the answers given in turn, and how often it was asked."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = [[ipaddress.ip_address(a) for a in answer] for answer in answers]
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return answer


def policy(resolver: CountingResolver | None = None, allow: str = "", allow_http: bool = True) -> sender.Policy:
    if resolver is None:
        return sender.Policy(parse_allow_list(allow), allow_http, timeout=2.0)
    return sender.Policy(parse_allow_list(allow), allow_http, timeout=2.0, resolver=resolver)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 (an address refused, not bound)
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_the_allow_list_takes_hosts_addresses_and_ranges_and_names_a_bad_entry() -> None:
    allow = parse_allow_list(" hooks.internal , 10.0.0.0/8,::1 ")
    assert allow.allows_host("HOOKS.internal.") and not allow.allows_host("other.internal")
    assert allow.allows_address(ipaddress.ip_address("10.9.9.9")) and allow.allows_address(ipaddress.ip_address("::1"))
    assert not allow.allows_address(ipaddress.ip_address("192.168.0.1"))
    assert parse_allow_list("") == AllowList()
    with pytest.raises(ValueError, match="'http://x'"):
        parse_allow_list("ok.example, http://x")


async def test_a_name_resolving_to_a_private_address_is_refused_without_connecting(receiver: Receiver) -> None:
    resolver = CountingResolver(["10.0.0.7"])
    result = await sender.send("http://hooks.example/x", b"{}", {}, policy(resolver))
    assert not result.ok and result.status_code is None
    assert "hooks.example resolves to a private address" in (result.error or "")
    assert "10.0.0.7" not in (result.error or "")  # the workspace learns the kind, not the operator's addresses
    assert "KEYWARD_WEBHOOK_ALLOWED_HOSTS" in (result.error or "")
    assert receiver.requests == []


async def test_dns_rebinding_cannot_move_the_connection_to_another_address(receiver: Receiver) -> None:
    """The name is resolved once per attempt; the request goes to the address that was checked, with the
    name as Host. A resolver that answers 127.0.0.1 (allowed here) and then 10.0.0.1 never sees a
    second question, and the request arrives at the loopback receiver."""
    # given
    port = int(receiver.url.split(":")[2].split("/")[0])
    resolver = CountingResolver(["127.0.0.1"], ["10.0.0.1"])
    # when
    result = await sender.send(f"http://rebind.example:{port}/hooks", b"{}", {}, policy(resolver, "127.0.0.1"))
    # then
    assert result.ok, result
    assert resolver.calls == 1
    [request] = receiver.wait_for(1)
    assert request.headers["host"] == f"rebind.example:{port}"


async def test_localhost_names_are_loopback_and_never_looked_up(receiver: Receiver) -> None:
    resolver = CountingResolver(["93.184.216.34"])
    port = receiver.url.split(":")[2]
    refused = await sender.send(f"http://localhost:{port}", b"{}", {}, policy(resolver))
    assert not refused.ok and "loopback" in (refused.error or "")
    invalid = await sender.send("https://hooks.invalid/x", b"{}", {}, policy(resolver))
    assert not invalid.ok and "does not resolve" in (invalid.error or "")
    assert resolver.calls == 0 and receiver.requests == []


async def test_only_https_unless_http_is_allowed(receiver: Receiver) -> None:
    result = await sender.send(receiver.url, b"{}", {}, policy(allow="127.0.0.1", allow_http=False))
    assert not result.ok and "https://" in (result.error or "")
    assert receiver.requests == []


async def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.script(Answer(status=302, headers={"Location": receiver.url + "/elsewhere"}))
    result = await sender.send(receiver.url, b"{}", {}, policy(allow="127.0.0.1"))
    assert not result.ok and result.status_code == 302 and "not followed" in (result.error or "")
    assert len(receiver.wait_for(1)) == 1  # the Location was never requested


async def test_a_huge_answer_is_read_only_up_to_the_limit(receiver: Receiver) -> None:
    receiver.script(Answer(status=200, body=b"x" * (20 * 1024 * 1024)))
    result = await sender.send(receiver.url, b"{}", {}, policy(allow="127.0.0.1"))
    assert result.ok and result.status_code == 200


async def test_a_429_with_retry_after_is_reported(receiver: Receiver) -> None:
    receiver.script(Answer(status=429, headers={"Retry-After": "120"}))
    result = await sender.send(receiver.url, b"{}", {}, policy(allow="127.0.0.1"))
    assert not result.ok and result.retry_after == 120


@pytest.mark.parametrize("value", ["\u00b2", "\u00b9\u00b2\u00b3", "1\u00b2"])
async def test_a_retry_after_of_digits_that_are_no_number_is_ignored(receiver: Receiver, value: str) -> None:
    """Superscript digits are digits to str.isdigit, but no number to float: the attempt raised ValueError out of
    the sender (a traceback, and the delivery left claimed and retried after every lease), instead of failing."""
    receiver.script(Answer(status=503, headers={"Retry-After": value}))
    result = await sender.send(receiver.url, b"{}", {}, policy(allow="127.0.0.1"))
    assert not result.ok and result.status_code == 503 and result.retry_after is None


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.com/x", "INVALID_URL"),  # http while KEYWARD_WEBHOOK_ALLOW_HTTP is off
        ("ftp://hooks.example.com/x", "INVALID_URL"),
        ("https://user:pass@hooks.example.com/x", "INVALID_URL"),
        ("https:///nohost", "INVALID_URL"),
        ("https://hooks.example.com/x#frag", "INVALID_URL"),
        ("https://hooks.example.com/" + "x" * 2030, "INVALID_URL"),
        ("https://hooks.example.com/a b", "INVALID_URL"),
        ("https://hooks.example.com/\u202egnp.exe", "INVALID_URL"),  # RIGHT-TO-LEFT OVERRIDE: shown reversed
        ("https://hooks.exa\u200bmple.com/x", "INVALID_URL"),  # ZERO WIDTH SPACE in the host
        ("https://hooks.example.com/a\u00a0b", "INVALID_URL"),  # NO-BREAK SPACE
        ("https://hooks.example.com/a\u0085b", "INVALID_URL"),  # a C1 control (NEXT LINE)
        ("https://hooks.example.com:0/x", "INVALID_URL"),  # no port 0: checked as 443, then sent to 0
        ("https://hooks.example.com:65536/x", "INVALID_URL"),
        ("https://" + "a" * 64 + ".example.com/x", "INVALID_URL"),  # a label DNS cannot carry
        ("https://hooks..example.com/x", "INVALID_URL"),  # an empty label
        ("https://" + "a." * 127 + "com/x", "INVALID_URL"),  # a name of 257 characters
        ("https://\u2603.example/x", "INVALID_URL"),  # a name IDNA 2008 forbids (the snowman)
        ("https://127.0.0.1/x", "DESTINATION_NOT_ALLOWED"),
        ("https://[::1]/x", "DESTINATION_NOT_ALLOWED"),
        ("https://169.254.169.254/latest/meta-data", "DESTINATION_NOT_ALLOWED"),
        ("https://10.0.0.1/x", "DESTINATION_NOT_ALLOWED"),
    ],
)
async def test_bad_urls_are_user_errors_when_the_endpoint_is_saved(api: Api, url: str, code: str) -> None:
    owner = await api.sign_up()
    body = await api.gql(CREATE, {"url": url}, owner.session)
    payload = body["data"]["createWebhookEndpoint"]
    assert payload["webhookEndpoint"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["url"], code)]


async def test_the_longest_url_allowed_is_saved(api: Api) -> None:
    owner = await api.sign_up()
    url = "https://hooks.example.com/" + "x" * (2048 - len("https://hooks.example.com/"))
    body = await api.ok(CREATE, {"url": url}, owner.session)
    assert body["createWebhookEndpoint"]["webhookEndpoint"]["id"]


async def test_a_url_in_another_script_is_saved(api: Api) -> None:
    owner = await api.sign_up()
    body = await api.ok(CREATE, {"url": "https://bücher.example/eingang/ä"}, owner.session)
    assert body["createWebhookEndpoint"]["webhookEndpoint"]["id"]


@pytest.mark.parametrize(
    "url", ["https://" + "a" * 64 + ".example.com/x", "https://hooks..example.com/x", "https://\u2603.example/x"]
)
async def test_a_host_no_delivery_can_reach_is_a_failed_attempt_never_an_exception(url: str) -> None:
    """An endpoint saved before its host was checked (or any URL) fails its attempt with a reason: an exception
    out of the attempt left the delivery claimed, retried after every lease for ever, never given up."""
    for resolver in (None, CountingResolver(["93.184.216.34"])):
        result = await sender.send(url, b"{}", {}, policy(resolver))
        assert not result.ok and "host" in (result.error or ""), result


async def test_the_longest_dns_name_is_saved(api: Api) -> None:
    owner = await api.sign_up()
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57, "com"])
    assert len(name) == 253
    body = await api.ok(CREATE, {"url": f"https://{name}./x"}, owner.session)
    assert body["createWebhookEndpoint"]["webhookEndpoint"]["id"]


async def test_the_first_and_last_ports_are_saved(api: Api) -> None:
    owner = await api.sign_up()
    for url in ("https://hooks.example.com:1/x", "https://hooks.example.com:65535/x"):
        body = await api.ok(CREATE, {"url": url}, owner.session)
        assert body["createWebhookEndpoint"]["webhookEndpoint"]["id"], url


@pytest.mark.parametrize(
    ("name", "value"), [("webhook_allowed_hosts", "ok.example, http://x"), ("leaks_rate_limit", "sixty a minute")]
)
def test_bad_webhook_and_leak_settings_stop_the_start(name: str, value: str) -> None:
    from pydantic import ValidationError

    from app.settings import Settings

    with pytest.raises(ValidationError, match=name):
        Settings(**{name: value})
