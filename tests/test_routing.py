"""Route sets and routing (sipfsm/values/routing.py): RFC 3261 §12.1.1, §12.1.2, §12.2.1.1,
§16.6 step 6, with the RFC's own examples."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sipfsm.values.routing import (
    dialog_request,
    is_loose,
    next_hop,
    request_uri,
    route_set_uac,
    route_set_uas,
    strict_reformat,
    uri_of,
    values,
    with_values,
)

#: RFC 3261 §16.12.1.2: "The INVITE arriving at U2 contains" (one field per value)
RECORD_ROUTES = (
    ("Record-Route", "<sip:p4.domain.com;lr>"),
    ("Record-Route", "<sip:p3.middle.com>"),
    ("Record-Route", "<sip:p2.example.com;lr>"),
    ("Record-Route", "<sip:p1.example.com;lr>"),
)


def test_a_list_header_is_read_across_its_fields_and_commas_rfc3261_7_3_1() -> None:
    one = (("Route", "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>"),)
    two = (("Route", "<sip:p1.example.com;lr>"), ("route", " <sip:p2.example.com;lr>"))
    assert values(one, "Route") == values(two, "ROUTE") == (
        "<sip:p1.example.com;lr>",
        "<sip:p2.example.com;lr>",
    )
    assert values((("Contact", "<sip:a@b>"),), "Route") == ()


def test_with_values_writes_one_field_where_the_first_was_or_none() -> None:
    headers = (("Max-Forwards", "70"), ("Route", "<sip:a;lr>"), ("X", "1"), ("Route", "<sip:b>"))
    assert with_values(headers, "Route", ("<sip:b>",)) == (
        ("Max-Forwards", "70"),
        ("Route", "<sip:b>"),
        ("X", "1"),
    )
    assert with_values(headers, "Route", ()) == (("Max-Forwards", "70"), ("X", "1"))
    assert with_values((("X", "1"),), "Route", ("<sip:a;lr>", "<sip:b>")) == (
        ("Route", "<sip:a;lr>, <sip:b>"),
        ("X", "1"),
    )


def test_the_lr_parameter_marks_a_loose_router_rfc3261_19_1_1() -> None:
    assert is_loose("<sip:p1.example.com;lr>")
    assert is_loose('"P1" <sip:p1.example.com;transport=tcp;LR>;x=1')
    assert is_loose("sip:p2.example.com;lr=on")
    assert not is_loose("<sip:p3.middle.com>")
    assert not is_loose("<sip:p3.middle.com;maddr=lr>")
    assert not is_loose("<sip:p3.middle.com?Subject=lr>")
    assert uri_of('"P1" <sip:p1.example.com;lr>;x=1') == "sip:p1.example.com;lr"


def test_the_uas_route_set_is_the_record_route_in_order_rfc3261_12_1_1() -> None:
    assert route_set_uas(RECORD_ROUTES) == (
        "<sip:p4.domain.com;lr>",
        "<sip:p3.middle.com>",
        "<sip:p2.example.com;lr>",
        "<sip:p1.example.com;lr>",
    )


def test_the_uac_route_set_is_the_record_route_reversed_rfc3261_12_1_2() -> None:
    # §16.12.1.1: "U1 sets ... its route set to: (<sip:p1.example.com;lr>,<sip:p2.domain.com;lr>)"
    rr = (("Record-Route", "<sip:p2.domain.com;lr>"), ("Record-Route", "<sip:p1.example.com;lr>"))
    assert route_set_uac(rr) == ("<sip:p1.example.com;lr>", "<sip:p2.domain.com;lr>")
    assert route_set_uac(()) == route_set_uas(()) == ()


def test_a_loose_route_set_keeps_the_remote_target_as_request_uri_rfc3261_12_2_1_1() -> None:
    # §16.12.1.1: "BYE sip:callee@u2.domain.com / Route: <sip:p1.example.com;lr>,<sip:p2...>"
    routes = ("<sip:p1.example.com;lr>", "<sip:p2.domain.com;lr>")
    assert dialog_request("sip:callee@u2.domain.com", routes) == (
        "sip:callee@u2.domain.com",
        routes,
    )
    assert dialog_request("sip:callee@u2.domain.com", ()) == ("sip:callee@u2.domain.com", ())


def test_a_strict_first_route_becomes_the_request_uri_rfc3261_12_2_1_1() -> None:
    # the example of §12.2.1.1
    routes = ("<sip:proxy1>", "<sip:proxy2>", "<sip:proxy3;lr>", "<sip:proxy4>")
    assert dialog_request("sip:user@remoteua", routes) == (
        "sip:proxy1",
        ("<sip:proxy2>", "<sip:proxy3;lr>", "<sip:proxy4>", "<sip:user@remoteua>"),
    )
    # and the request goes to that Request-URI (§8.1.2)
    uri, route = dialog_request("sip:user@remoteua", routes)
    assert next_hop(uri, route, strict_first=True) == "sip:proxy1"
    assert next_hop("sip:user@remoteua", ("<sip:p1;lr>",), strict_first=False) == "sip:p1;lr"
    assert next_hop("sip:user@remoteua", (), strict_first=False) == "sip:user@remoteua"


def test_parameters_a_request_uri_may_not_carry_are_stripped_rfc3261_19_1_1() -> None:
    assert request_uri("<sip:p1.example.com;method=INVITE;transport=tcp>") == (
        "sip:p1.example.com;transport=tcp"
    )
    assert request_uri("<sip:p2.example.com;lr?Subject=x>") == "sip:p2.example.com;lr"


def test_a_proxy_reformats_a_request_for_a_strict_next_hop_rfc3261_16_6_step_6() -> None:
    # §16.12.1.2: P4, its own Route removed, "notices that this URI does not contain the lr
    # parameter, so before sending, it reformats the request to be: BYE sip:p3.middle.com"
    uri, routes, reformatted = strict_reformat(
        "sip:caller@u1.example.com",
        ("<sip:p3.middle.com>", "<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"),
    )
    assert reformatted and uri == "sip:p3.middle.com"
    assert routes == (
        "<sip:p2.example.com;lr>",
        "<sip:p1.example.com;lr>",
        "<sip:caller@u1.example.com>",
    )
    # a loose next hop, or no Route: unchanged
    assert strict_reformat("sip:a@b", ("<sip:p2;lr>",)) == ("sip:a@b", ("<sip:p2;lr>",), False)
    assert strict_reformat("sip:a@b", ()) == ("sip:a@b", (), False)


_HOSTS = st.from_regex(r"p[0-9]{1,2}\.example\.com", fullmatch=True)


@given(st.lists(st.tuples(_HOSTS, st.booleans()), max_size=6))
def test_the_request_holds_every_route_and_the_remote_target_once_rfc3261_12_2_1_1(
    hops: list[tuple[str, bool]],
) -> None:
    routes = tuple(f"<sip:{host}{';lr' if lr else ''}>" for host, lr in hops)
    target = "sip:bob@bob.example.com"
    uri, route = dialog_request(target, routes)
    # nothing is lost: the Request-URI and the Route hold the route set and the target
    held = [uri_of(r) for r in route] + [uri]
    assert sorted(held) == sorted([uri_of(r) for r in routes] + [target])
    # loose (or none): the target stays the Request-URI; strict: it is the last Route
    if not routes or is_loose(routes[0]):
        assert uri == target and route == routes
    else:
        assert uri == uri_of(routes[0]) and route[-1] == f"<{target}>"
