"""Each role tries to read and write what it must not; every refusal is 401/403/404 and changes nothing."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from access_support import LD, World, bearer, document, event, ids, snapshot
from fastapi.testclient import TestClient

from zhuisu.access import service
from zhuisu.access.principal import SYSTEM
from zhuisu.store import access as access_store


def event_list(r: object) -> list[dict[str, object]]:
    return r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[attr-defined, no-any-return]


def check_each_role_reads_exactly_its_events(world: World) -> None:
    w = world
    everything = ids(w, *w.events)
    assert w.event_ids("admin") == everything
    # Owners and partners: A owns three, is named by B's receipt; B owns two, is named by A's shipment to it.
    assert w.event_ids("A") == ids(w, "a_to_b", "a_to_c", "a_own", "b_receives")
    assert w.event_ids("B") == ids(w, "a_to_b", "b_receives", "b_own")
    assert w.event_ids("C") == ids(w, "a_to_c", "c_own")
    # The 临沂 (3713) meat regulator sees what concerns A or C; the Beijing (11) one what concerns B.
    assert w.event_ids("linyi") == ids(w, "a_to_b", "a_to_c", "a_own", "b_receives", "c_own")
    assert w.event_ids("beijing") == ids(w, "a_to_b", "b_receives", "b_own")
    assert w.event_ids("drugs") == set()  # nationwide, but no party here is in its sector
    assert w.event_ids("erp") == w.event_ids("A")  # a client reads like the party that authorised it


def check_guessing_an_event_id_of_another_party_is_404(world: World) -> None:
    w = world
    hidden = w.events["a_to_c"]["eventID"]
    assert w.get("B", f"/epcis/events/{quote(hidden, safe='')}").status_code == 404
    assert w.get("beijing", f"/epcis/events/{quote(hidden, safe='')}").status_code == 404
    missing = w.get("B", "/epcis/events/urn:uuid:00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert w.get("B", f"/epcis/events/{quote(hidden, safe='')}").json()["detail"] == missing.json()["detail"].replace(
        "urn:uuid:00000000-0000-4000-8000-000000000000", hidden
    )  # indistinguishable from an event that does not exist
    assert w.get("C", f"/epcis/events/{quote(hidden, safe='')}").status_code == 200
    assert w.get("linyi", f"/epcis/events/{quote(hidden, safe='')}").status_code == 200


def check_partners_see_other_parties_events_without_trade_secrets(world: World) -> None:
    w = world
    eid = quote(w.events["a_to_b"]["eventID"], safe="")
    [whole] = event_list(w.get("A", f"/epcis/events/{eid}"))
    [seen] = event_list(w.get("B", f"/epcis/events/{eid}"))
    assert whole["bizTransactionList"] and whole["quantityList"][0]["quantity"] == 101  # type: ignore[index]
    assert any(k.endswith("price") for k in whole)
    assert "bizTransactionList" not in seen
    assert seen["quantityList"] == [{"epcClass": "urn:epc:class:lgtin:6901230.000002.LOT1"}]
    assert not any(k.endswith("price") for k in seen)
    # What happened where and when stays, so the hand-off can be traced from both sides.
    for key in ("eventID", "eventTime", "epcList", "bizStep", "readPoint", "bizLocation", "sourceList"):
        assert seen[key] == whole[key], key
    assert seen["destinationList"] == whole["destinationList"]  # it names B itself
    # The regulator of A's region sees it whole, the B-side regulator too (it concerns B).
    [regulated] = event_list(w.get("linyi", f"/epcis/events/{eid}"))
    assert regulated == whole
    # In query results as well.
    [listed] = [e for e in event_list(w.get("B", "/epcis/events")) if e["eventID"] == w.events["a_to_b"]["eventID"]]
    assert listed == seen


def check_filters_on_hidden_fields_match_only_own_events(world: World) -> None:
    w = world
    po = w.events["a_to_b"]["bizTransactionList"][0]["bizTransaction"]
    assert w.event_ids("A", EQ_bizTransaction_po=po) == ids(w, "a_to_b")
    assert w.event_ids("B", EQ_bizTransaction_po=po) == set()  # no oracle on A's order numbers
    assert w.event_ids("B", GE_quantity="0") == ids(w, "b_receives", "b_own")
    # Sensor data is part of what partners see: filtering on it reaches the events they may read.
    assert w.event_ids("B", EQ_type="Temperature", LT_value_CEL="4") == ids(w, "a_to_b")
    assert w.event_ids("C", EQ_type="Temperature") == set()
    assert w.event_ids("B", MATCH_epcClass="urn:epc:class:lgtin:6901230.000002.LOT1") == ids(
        w, "a_to_b", "b_receives", "b_own"
    )


def check_discovery_lists_show_only_visible_values(world: World) -> None:
    w = world

    def members(who: str, resource: str) -> set[str]:
        r = w.get(who, f"/epcis/{resource}", params={"perPage": "1000"})
        assert r.status_code == 200, r.text
        return set(r.json()["member"])

    assert members("B", "bizLocations") == {w.loc["A"], w.loc["B"]}
    assert members("admin", "bizLocations") == {w.loc["A"], w.loc["B"], w.loc["C"]}
    c_loc = quote(w.loc["C"], safe="")
    assert w.get("B", f"/epcis/bizLocations/{c_loc}").status_code == 404
    assert w.get("C", f"/epcis/bizLocations/{c_loc}").status_code == 200
    assert event_list(w.get("B", f"/epcis/bizLocations/{c_loc}/events")) == []


def test_the_public_gets_401_everywhere_in_epcis_and_changes_nothing(world: World, app_client: TestClient) -> None:
    before = snapshot(world.engine)
    for url in ("/epcis", "/epcis/events", "/epcis/capture", "/epcis/eventTypes", "/epcis/queries", "/api/audit"):
        r = app_client.get(url)
        assert r.status_code == 401, (url, r.text)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert r.headers["content-type"] == "application/problem+json"
    doc = document(event(50, world.loc["A"]))
    assert app_client.post("/epcis/capture", content=doc, headers=LD).status_code == 401
    single = document(event(51, world.loc["A"]))
    assert app_client.post("/epcis/events", content=single, headers=LD).status_code == 401
    assert app_client.post("/api/apikeys", json={"role": "admin"}).status_code == 401
    assert snapshot(world.engine) == before


def check_capturing_as_another_enterprise_is_403_naming_event_and_field_and_stores_nothing(world: World) -> None:
    w = world
    before = snapshot(w.engine)
    # B records an event at A's site, in the middle of an otherwise harmless document.
    r = w.post("B", "/epcis/capture", document(event(60, w.loc["B"]), event(61, w.loc["A"])))
    assert r.status_code == 403, r.text
    problem = r.json()
    assert "1" in problem["detail"] and "readPoint" in problem["detail"] and w.party["A"] in problem["detail"]
    # A transfer between A and C, recorded by B, at an unregistered place.
    r = w.post(
        "B",
        "/epcis/capture",
        document(event(62, "urn:epc:id:sgln:0614141.00777.0", source=w.loc["A"], dest=w.loc["C"])),
    )
    assert r.status_code == 403 and "sourceList/0/source" in r.json()["detail"], r.text
    # One event at a time, too.
    single = orjson_event(event(63, w.loc["C"]))
    r = w.client.post(
        "/epcis/events", content=single, headers={**bearer(w.key["B"]), "Content-Type": "application/ld+json"}
    )
    assert r.status_code == 403 and "readPoint" in r.text and "bizLocation" in r.text, r.text
    # Naming another party in the header.
    r = w.post("B", "/epcis/capture", document(event(64, w.loc["B"])), {"X-Zhuisu-Party": w.party["A"]})
    assert r.status_code == 403
    # A client for a party that did not authorise it.
    r = w.post("erp", "/epcis/capture", document(event(65, w.loc["B"])), {"X-Zhuisu-Party": w.party["B"]})
    assert r.status_code == 403
    # A regulator does not capture at all.
    assert w.post("linyi", "/epcis/capture", document(event(66, w.loc["A"]))).status_code == 403
    assert snapshot(w.engine) == before


def orjson_event(ev: dict[str, object]) -> bytes:
    import orjson

    return orjson.dumps({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], **ev})


def test_receipts_and_unregistered_places_are_allowed(world: World) -> None:
    w = world
    # B records its receipt of A's goods (the source names A): allowed, it takes part in the transfer.
    r = w.post("B", "/epcis/capture", document(event(70, w.loc["B"], source=w.loc["A"], dest=w.loc["B"])))
    assert r.status_code == 202 and w.get("B", r.headers["Location"]).json()["success"], r.text
    # A client authorised by A captures for A (its only party) and the events are A's.
    r = w.post("erp", "/epcis/capture", document(event(71, w.loc["A"])))
    assert r.status_code == 202, r.text
    assert event(71, w.loc["A"])["eventID"] in w.event_ids("A")
    assert event(71, w.loc["A"])["eventID"] not in w.event_ids("B")


def check_capture_jobs_of_other_parties_are_404(world: World) -> None:
    w = world
    mine = w.get("A", "/epcis/capture").json()
    theirs = w.get("B", "/epcis/capture").json()
    assert mine and theirs and not {j["captureID"] for j in mine} & {j["captureID"] for j in theirs}
    for job in mine:
        assert w.get("B", f"/epcis/capture/{job['captureID']}").status_code == 404
        assert w.get("A", f"/epcis/capture/{job['captureID']}").status_code == 200
    assert len(w.get("admin", "/epcis/capture").json()) == len(mine) + len(theirs) + len(
        w.get("C", "/epcis/capture").json()
    )


def check_revoked_expired_and_made_up_keys_are_401(world: World) -> None:
    w = world
    revoked = service.create_key(w.engine, SYSTEM, role="enterprise", parties=[w.party["A"]])
    assert w.client.get("/epcis/events", headers=bearer(revoked.key)).status_code == 200
    assert w.client.delete(f"/api/apikeys/{revoked.row.id}", headers=bearer(w.key["admin"])).status_code == 204
    expired = service.create_key(
        w.engine, SYSTEM, role="enterprise", parties=[w.party["A"]], expires_at=access_store.now_micros() - 1
    )
    before = snapshot(w.engine)
    made_up = "zs_" + "a" * 52
    for key, words in (
        (revoked.key, "revoked"),
        (expired.key, "expired"),
        (made_up, "unknown"),
        ("hunter2", "not one"),
    ):
        for method, url in (("GET", "/epcis/events"), ("POST", "/epcis/capture")):
            r = w.client.request(
                method,
                url,
                content=document(event(80, w.loc["A"])),
                headers={**bearer(key), **{"Content-Type": "application/ld+json"}},
            )
            assert r.status_code == 401, (key, r.text)
            assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
            assert words in r.json()["detail"]
    assert w.client.get("/epcis/events", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}).status_code == 401
    assert snapshot(w.engine) == before


def check_scopes_narrow_a_key(world: World) -> None:
    w = world
    reader = service.create_key(w.engine, SYSTEM, role="enterprise", parties=[w.party["A"]], scopes=["epcis:read"])
    assert w.client.get("/epcis/events", headers=bearer(reader.key)).status_code == 200
    before = snapshot(w.engine)
    r = w.client.post(
        "/epcis/capture",
        content=document(event(90, w.loc["A"])),
        headers={**bearer(reader.key), "Content-Type": "application/ld+json"},
    )
    assert r.status_code == 403
    assert snapshot(w.engine) == before


def test_key_management_is_limited_to_ones_own(world: World) -> None:
    w = world
    keys = w.get("admin", "/api/apikeys").json()
    admin_key = next(k for k in keys if k["name"] == "admin")
    assert all("key" not in k and "key_hash" not in k for k in keys)
    # An enterprise sees only its own keys; another's key id is 404 to read and to revoke.
    assert {tuple(k["parties"]) for k in w.get("B", "/api/apikeys").json()} == {(w.party["B"],)}
    assert w.get("B", f"/api/apikeys/{admin_key['id']}").status_code == 404
    assert w.client.delete(f"/api/apikeys/{admin_key['id']}", headers=bearer(w.key["B"])).status_code == 404
    assert w.get("admin", "/epcis/events").status_code == 200  # still works
    # It cannot issue an administrator's key, nor one for another party.
    before = snapshot(w.engine)
    assert w.client.post("/api/apikeys", json={"role": "admin"}, headers=bearer(w.key["B"])).status_code == 403
    other = {"role": "enterprise", "parties": [w.party["A"]]}
    assert w.client.post("/api/apikeys", json=other, headers=bearer(w.key["B"])).status_code == 403
    assert (
        w.client.post(
            "/api/users",
            json={"username": "x", "password": "long enough pw", "role": "admin"},
            headers=bearer(w.key["B"]),
        ).status_code
        == 403
    )
    assert w.get("linyi", "/api/users").status_code == 403
    assert snapshot(w.engine) == before
    # Its own key: shown once, then only its prefix.
    r = w.client.post(
        "/api/apikeys",
        json={"role": "enterprise", "parties": [w.party["B"]], "name": "scanner"},
        headers=bearer(w.key["B"]),
    )
    assert r.status_code == 201 and r.json()["key"].startswith(r.json()["prefix"])
    listed = w.get("B", f"/api/apikeys/{r.json()['id']}").json()
    assert "key" not in listed and listed["prefix"] == r.json()["prefix"]
    assert w.client.get("/epcis/events", headers=bearer(r.json()["key"])).status_code == 200


def test_client_authorisation_can_be_withdrawn_by_the_party(world: World) -> None:
    w = world
    assert w.client.put(f"/api/clients/erp-x/parties/{w.party['A']}", headers=bearer(w.key["B"])).status_code == 403
    assert w.client.delete(f"/api/clients/erp-x/parties/{w.party['A']}", headers=bearer(w.key["B"])).status_code == 403
    assert w.post("erp", "/epcis/capture", document(event(95, w.loc["A"]))).status_code == 202
    assert w.client.delete(f"/api/clients/erp-x/parties/{w.party['A']}", headers=bearer(w.key["A"])).status_code == 204
    before = snapshot(w.engine)
    assert w.post("erp", "/epcis/capture", document(event(96, w.loc["A"]))).status_code == 403
    assert w.event_ids("erp") == set()
    assert snapshot(w.engine) == before


def test_every_capture_is_audited_and_regulators_read_only_their_jurisdiction(world: World) -> None:
    w = world
    entries = w.get("admin", "/api/audit", params={"action": "epcis.capture"}).json()
    by_party = {e["detail"]["party"]: e for e in entries}
    assert set(by_party) == {w.party["A"], w.party["B"], w.party["C"]}
    a = by_party[w.party["A"]]
    assert a["role"] == "enterprise" and a["actor"].startswith("key:") and a["remote"] == "testclient"
    assert a["detail"]["stored"] == 3 and a["targetType"] == "capture"
    assert w.get("A", "/epcis/capture/" + a["targetId"]).status_code == 200  # the capture id
    linyi = w.get("linyi", "/api/audit", params={"action": "epcis.capture"}).json()
    assert {e["detail"]["party"] for e in linyi} == {w.party["A"], w.party["C"]}
    beijing = w.get("beijing", "/api/audit").json()
    assert {e["detail"]["party"] for e in beijing if e["action"] == "epcis.capture"} == {w.party["B"]}
    assert all(w.party["A"] not in e["parties"] for e in beijing)
    assert w.get("A", "/api/audit").status_code == 403
    assert w.get("erp", "/api/audit").status_code == 403
    # Paging: newest first, every entry once.
    seen: list[int] = []
    url = "/api/audit?perPage=2"
    while True:
        r = w.get("admin", url)
        seen += [e["id"] for e in r.json()]
        if "Link" not in r.headers:
            break
        url = r.headers["Link"].split(">")[0][1:]
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == len(
        w.get("admin", "/api/audit").json()
    )


def test_a_large_document_of_another_partys_location_fails_its_job_and_stores_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zhuisu.api import epcis_capture

    monkeypatch.setattr(epcis_capture, "INLINE_CAPTURE_BYTES", 10)  # every document goes to the background job
    w = world
    events_before = snapshot(w.engine)[0]
    r = w.post("B", "/epcis/capture", document(event(97, w.loc["B"]), event(98, w.loc["C"])))
    assert r.status_code == 202
    for _ in range(200):
        job = w.get("B", r.headers["Location"]).json()
        if not job["running"]:
            break
        time.sleep(0.05)
    assert job["success"] is False and job["errors"][0]["status"] == 403
    assert job["errors"][0]["eventIndex"] == 1
    assert snapshot(w.engine)[0] == events_before


def test_what_each_role_may_read(world: World) -> None:
    """Reading as every role: own events whole, partners' redacted, nothing else (404 for guessed ids)."""
    check_each_role_reads_exactly_its_events(world)
    check_guessing_an_event_id_of_another_party_is_404(world)
    check_partners_see_other_parties_events_without_trade_secrets(world)
    check_filters_on_hidden_fields_match_only_own_events(world)
    check_discovery_lists_show_only_visible_values(world)


def test_writes_each_role_must_not_make_are_refused_and_change_nothing(world: World) -> None:
    """Capturing as another party, with revoked/expired/made-up keys, beyond a key's scopes, into others' jobs."""
    check_capturing_as_another_enterprise_is_403_naming_event_and_field_and_stores_nothing(world)
    check_revoked_expired_and_made_up_keys_are_401(world)
    check_scopes_narrow_a_key(world)
    check_capture_jobs_of_other_parties_are_404(world)


def registry_state(w: World) -> list[tuple[object, ...]]:
    from sqlalchemy import select

    from zhuisu.store.registry import registry_location, registry_party

    with w.engine.connect() as conn:
        parties = conn.execute(select(registry_party).order_by(registry_party.c.party_code)).all()
        locations = conn.execute(select(registry_location).order_by(registry_location.c.code)).all()
    return [tuple(r) for r in [*parties, *locations]]


def test_master_data_of_other_parties_and_regions_cannot_be_changed(world: World, app_client: TestClient) -> None:
    w = world
    before, counts = registry_state(w), snapshot(w.engine)
    a = w.party["A"]
    patch = {"name": "被篡改的名字"}
    new_loc = {"party_code": a, "name": "冒名厂区", "region": "371302"}
    assert app_client.patch(f"/api/parties/{a}", json=patch).status_code == 401
    for who in ("B", "beijing", "erp"):
        r = w.client.patch(f"/api/parties/{a}", json=patch, headers=bearer(w.key[who]))
        assert r.status_code in (403, 404), (who, r.text)
        r = w.client.post("/api/locations", json=new_loc, headers=bearer(w.key[who]))
        assert r.status_code in (403, 404), (who, r.text)
    r = w.client.post(f"/api/parties/{a}/status", json={"status": "revoked"}, headers=bearer(w.key["B"]))
    assert r.status_code in (403, 404)
    assert registry_state(w) == before and snapshot(w.engine) == counts
    # What another enterprise may read of A is the public part only; A and its regulator see the rest.
    seen_by_b = w.get("B", f"/api/parties/{a}").json()
    seen_by_a = w.get("A", f"/api/parties/{a}").json()
    assert set(seen_by_b) < set(seen_by_a)
    assert set(w.get("linyi", f"/api/parties/{a}").json()) == set(seen_by_a)
