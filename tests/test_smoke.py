from tests.support.api import Api


async def test_sign_up_then_viewer(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    data = await api.ok("{ viewer { kind role email } }", token=account.session)
    # then
    assert data["viewer"] == {"kind": "USER", "role": "OWNER", "email": account.email}
