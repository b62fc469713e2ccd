"""The DHIS2 client (`c2p.dhis2`) against the local stand-in over real HTTP: the
pinned version, both ways to authenticate, paging, and DHIS2 down, slow, refusing
or answering something else, each as its own outcome."""
import pytest

from c2p.dhis2 import Dhis2Client, Dhis2NotConfigured, Dhis2Refused, Dhis2Unavailable
from dhis2_standin import Dhis2StandIn


@pytest.fixture
def standin():
    dhis2 = Dhis2StandIn().start()
    dhis2.add_unit("OuMali00001", "Mali")
    for i in range(7):
        dhis2.add_unit(f"OuRegion{i:03d}", f"Région {i}", parent="OuMali00001")
    dhis2.add_data_element("DeScore0001", "C2P_SCORE")
    yield dhis2
    dhis2.stop()


def test_token_or_basic_auth_and_the_pinned_version(standin):
    token = Dhis2Client(standin.url, 40, token=standin.token, timeout_s=5)
    assert token.get("organisationUnits/OuMali00001")["name"] == "Mali"
    assert standin.requests[-1].path == "/api/40/organisationUnits/OuMali00001"
    assert standin.requests[-1].headers["Authorization"] == f"ApiToken {standin.token}"
    basic = Dhis2Client(standin.url, 40, username="admin", password="district", timeout_s=5)
    assert basic.get("organisationUnits/OuMali00001")["id"] == "OuMali00001"
    assert standin.requests[-1].headers["Authorization"] == "Basic YWRtaW46ZGlzdHJpY3Q="
    with pytest.raises(Dhis2Refused) as wrong:
        Dhis2Client(standin.url, 40, username="admin", password="nope").get("system/info")
    assert wrong.value.status_code == 401 and "credentials" in str(wrong.value)
    with pytest.raises(Dhis2Refused) as old:   # the stand-in only speaks version 40
        Dhis2Client(standin.url, 39, token=standin.token).get("organisationUnits/OuMali00001")
    assert old.value.status_code == 404
    with pytest.raises(Dhis2NotConfigured):
        Dhis2Client("", 40)


def test_paging_goes_through_every_page(standin):
    client = Dhis2Client(standin.url, 40, token=standin.token)
    pages = list(client.pages("organisationUnits", "organisationUnits",
                              {"filter": "path:like:OuMali00001"}, page_size=3))
    assert [(page, count, total, len(items)) for page, count, total, items in pages] == [
        (1, 3, 8, 3), (2, 3, 8, 3), (3, 3, 8, 2)]


def test_down_slow_refusing_or_not_dhis2_are_told_apart(standin):
    client = Dhis2Client(standin.url, 40, token=standin.token, timeout_s=1, read_retries=0)
    payload = {"dataValues": [{"dataElement": "DeScore0001", "period": "202507",
                               "orgUnit": "OuMali00001", "value": "80"}]}
    standin.down = True
    with pytest.raises(Dhis2Unavailable, match="503"):
        client.post_data_values(payload)
    standin.down = False
    standin.delay_s = 2
    with pytest.raises(Dhis2Unavailable, match="did not answer within 1 s"):
        client.post_data_values(payload)
    standin.delay_s = 0
    with pytest.raises(Dhis2Unavailable, match="unreachable"):
        Dhis2Client("http://127.0.0.1:9", 40, token="x", timeout_s=1).post_data_values(payload)
    # Slow is not down: DHIS2 stored the value after C2P stopped waiting. C2P could not
    # know, keeps it as unsent and sends it again: CREATE_AND_UPDATE makes that harmless.
    assert len(standin.values) == 1
    summary = client.post_data_values(payload)
    assert (summary.status, summary.http_status, summary.imported, summary.ignored) == (
        "SUCCESS", 200, 0, 1)
    bad = {"dataValues": [{**payload["dataValues"][0], "orgUnit": "OuNowhere01"}]}
    summary = client.post_data_values(bad)
    assert (summary.status, summary.http_status) == ("ERROR", 409)
    assert summary.conflicts[0].object == "OuNowhere01" and summary.conflicts[0].indexes == [0]
