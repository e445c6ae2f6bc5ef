from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event

from app.core.security import create_access_token
from tests.conftest import TEST_JWT_SECRET
from tests.utils.users import AuthHeaders


def create(client: TestClient, headers: AuthHeaders, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/tasks", json={"title": "A task", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def titles(client: TestClient, headers: AuthHeaders, **params: Any) -> list[str]:
    response = client.get("/api/tasks", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [t["title"] for t in response.json()["items"]]


def test_create_task_with_all_fields(client: TestClient, alice: AuthHeaders) -> None:
    task = create(
        client,
        alice,
        title="  Write report ",
        description="Quarterly",
        priority="high",
        tags=["work", " work", "q3"],
        due_date="2030-05-01T17:30:00Z",
    )
    assert task["title"] == "Write report"
    assert task["tags"] == ["work", "q3"]
    assert task["due_date"] == "2030-05-01"
    assert task["completed"] is False
    assert task["created_at"].endswith("Z") or task["created_at"].endswith("+00:00")
    assert client.get(f"/api/tasks/{task['id']}", headers=alice).json() == task


def test_defaults(client: TestClient, alice: AuthHeaders) -> None:
    task = create(client, alice)
    assert (task["priority"], task["tags"], task["due_date"], task["description"]) == (
        "medium",
        [],
        None,
        None,
    )


def test_update_changes_only_given_fields(client: TestClient, alice: AuthHeaders) -> None:
    task = create(client, alice, description="keep me", tags=["a"])
    response = client.patch(
        f"/api/tasks/{task['id']}", json={"title": "Renamed", "due_date": None}, headers=alice
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["title"] == "Renamed"
    assert updated["description"] == "keep me"
    assert updated["tags"] == ["a"]
    assert updated["updated_at"] >= task["updated_at"]


def test_toggle_flips_completion(client: TestClient, alice: AuthHeaders) -> None:
    task = create(client, alice)
    assert client.post(f"/api/tasks/{task['id']}/toggle", headers=alice).json()["completed"]
    assert not client.post(f"/api/tasks/{task['id']}/toggle", headers=alice).json()["completed"]


def test_delete_removes_the_task(client: TestClient, alice: AuthHeaders) -> None:
    task = create(client, alice)
    assert client.delete(f"/api/tasks/{task['id']}", headers=alice).status_code == 204
    assert client.get(f"/api/tasks/{task['id']}", headers=alice).status_code == 404


def test_tasks_require_authentication(client: TestClient) -> None:
    assert client.get("/api/tasks").status_code == 401
    assert client.post("/api/tasks", json={"title": "x"}).status_code == 401


def test_other_users_tasks_are_invisible(
    client: TestClient, alice: AuthHeaders, bob: AuthHeaders
) -> None:
    task = create(client, alice, title="Alice's secret")
    url = f"/api/tasks/{task['id']}"
    assert client.get(url, headers=bob).status_code == 404
    assert client.patch(url, json={"title": "pwned"}, headers=bob).status_code == 404
    assert client.post(f"{url}/toggle", headers=bob).status_code == 404
    assert client.delete(url, headers=bob).status_code == 404
    assert client.get("/api/tasks", headers=bob).json()["total"] == 0
    assert client.get(url, headers=alice).json()["title"] == "Alice's secret"


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"title": ""}, "title", "at least 1 character"),
        ({"title": "   "}, "title", "title must not be blank"),
        ({"title": "x" * 201}, "title", "at most 200 characters"),
        ({"title": "x", "priority": "urgent"}, "priority", "'low', 'medium' or 'high'"),
        ({"title": "x", "due_date": "someday"}, "due_date", "valid date"),
        ({"title": "x", "tags": [""]}, "tags", "tags must not be empty"),
        ({}, "title", "Field required"),
    ],
)
def test_create_validation_errors_name_the_field(
    client: TestClient, alice: AuthHeaders, payload: dict[str, Any], field: str, message: str
) -> None:
    response = client.post("/api/tasks", json=payload, headers=alice)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"][:2] == ["body", field] and message in e["msg"] for e in errors), errors


def test_update_refuses_null_for_required_fields(client: TestClient, alice: AuthHeaders) -> None:
    task = create(client, alice)
    response = client.patch(f"/api/tasks/{task['id']}", json={"completed": None}, headers=alice)
    assert response.status_code == 422
    assert "completed must not be null" in response.json()["detail"][0]["msg"]


@pytest.fixture
def seeded(client: TestClient, alice: AuthHeaders) -> AuthHeaders:
    create(client, alice, title="Buy milk", priority="low", tags=["home"], due_date="2030-01-03")
    create(
        client,
        alice,
        title="Pay taxes",
        description="before April",
        priority="high",
        tags=["money", "home_office"],
        due_date="2030-01-01",
    )
    done = create(client, alice, title="call mom", priority="medium", tags=["family"])
    client.post(f"/api/tasks/{done['id']}/toggle", headers=alice)
    create(client, alice, title="Write 100% tests", priority="high", due_date="2030-01-02")
    return alice


def test_search_matches_title_and_description_case_insensitively(
    client: TestClient, seeded: AuthHeaders
) -> None:
    assert titles(client, seeded, q="MILK") == ["Buy milk"]
    assert titles(client, seeded, q="april") == ["Pay taxes"]
    assert titles(client, seeded, q="100%") == ["Write 100% tests"]
    assert titles(client, seeded, q="%") == ["Write 100% tests"]


def test_filter_by_status_priority_and_tag(client: TestClient, seeded: AuthHeaders) -> None:
    assert titles(client, seeded, status="completed") == ["call mom"]
    assert len(titles(client, seeded, status="active")) == 3
    assert sorted(titles(client, seeded, priority="high")) == ["Pay taxes", "Write 100% tests"]
    assert titles(client, seeded, tag="home") == ["Buy milk"]
    assert titles(client, seeded, tag="home_office") == ["Pay taxes"]
    assert titles(client, seeded, tag="hom") == []


@pytest.mark.parametrize(
    ("sort", "order", "expected"),
    [
        ("title", "asc", ["Buy milk", "call mom", "Pay taxes", "Write 100% tests"]),
        ("due", "asc", ["Pay taxes", "Write 100% tests", "Buy milk", "call mom"]),
        ("due", "desc", ["Buy milk", "Write 100% tests", "Pay taxes", "call mom"]),
        ("priority", "desc", ["Write 100% tests", "Pay taxes", "call mom", "Buy milk"]),
        ("created", "desc", ["Write 100% tests", "call mom", "Pay taxes", "Buy milk"]),
        ("created", "asc", ["Buy milk", "Pay taxes", "call mom", "Write 100% tests"]),
    ],
)
def test_sorting(
    client: TestClient, seeded: AuthHeaders, sort: str, order: str, expected: list[str]
) -> None:
    assert titles(client, seeded, sort=sort, order=order) == expected


def test_pagination_reports_total(client: TestClient, seeded: AuthHeaders) -> None:
    response = client.get(
        "/api/tasks",
        params={"limit": 2, "offset": 2, "sort": "title", "order": "asc"},
        headers=seeded,
    )
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (4, 2, 2)
    assert [t["title"] for t in body["items"]] == ["Pay taxes", "Write 100% tests"]


def test_a_page_past_the_end_still_reports_the_total(
    client: TestClient, seeded: AuthHeaders
) -> None:
    for params, total in (({"offset": 10}, 4), ({"offset": 10, "q": "milk"}, 1), ({"q": "zzz"}, 0)):
        body = client.get("/api/tasks", params=params, headers=seeded).json()
        assert (body["items"], body["total"]) == ([], total), params


@pytest.mark.parametrize(("user", "found"), [("seeded", 2), ("bob", 0)])
def test_listing_tasks_is_one_autocommit_statement_in_one_worker_thread_hop(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    user: str,
    found: int,
) -> None:
    # What a list request costs on one CPU is mostly round trips to the database and hops
    # into worker threads; these counts are the regression guard (timings would flake).
    headers: AuthHeaders = request.getfixturevalue(user)
    statements: list[tuple[str, object]] = []
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]

    def record(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        isolation = connection.get_execution_options().get("isolation_level")
        statements.append((statement, isolation))

    hops: list[object] = []
    run_sync = anyio.to_thread.run_sync

    async def counting_run_sync(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(func)
        return await run_sync(func, *args, **kwargs)

    titles(client, headers)  # the pool has its connection: checkouts only ping from here
    event.listen(engine, "before_cursor_execute", record)
    monkeypatch.setattr(anyio.to_thread, "run_sync", counting_run_sync)
    try:
        assert len(titles(client, headers, limit=2)) == found
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # The user, the token's revocation, the page and its total in one, even when the user
    # has no task; in autocommit, so no BEGIN before it and no ROLLBACK after it.
    assert [isolation for _, isolation in statements] == ["AUTOCOMMIT"], statements
    # The route, which answers with its JSON itself and gives the connection back.
    assert len(hops) == 1, hops


def test_the_list_answers_each_task_exactly_as_reading_it_does(
    client: TestClient, alice: AuthHeaders
) -> None:
    first = create(
        client,
        alice,
        title='Café "crème" \\ <b>',
        description="line one\nline two \u2028 ✓",
        priority="high",
        tags=["b", "a"],
        due_date="2030-02-03",
    )
    second = create(client, alice, title="Plain")
    client.post(f"/api/tasks/{second['id']}/toggle", headers=alice)
    items = [
        client.get(f"/api/tasks/{task['id']}", headers=alice).json() for task in (second, first)
    ]

    response = client.get("/api/tasks", headers=alice)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    page = {"items": items, "total": 2, "limit": 20, "offset": 0}
    # Byte for byte: the same keys in the same order, the same datetime and date spelling.
    assert response.content == json.dumps(page, separators=(",", ":"), ensure_ascii=False).encode()
    assert list(items[1]) == [
        "title",
        "description",
        "completed",
        "priority",
        "tags",
        "due_date",
        "id",
        "created_at",
        "updated_at",
    ]


def test_another_users_tasks_never_appear_in_the_list(
    client: TestClient, alice: AuthHeaders, bob: AuthHeaders
) -> None:
    for title in ("Alice one", "Alice two"):
        create(client, alice, title=title, tags=["shared"], priority="high")
    create(client, bob, title="Bob's", tags=["shared"], priority="high")
    for params in (
        {},
        {"q": "one"},
        {"q": "alice"},
        {"tag": "shared"},
        {"priority": "high", "status": "active"},
        {"sort": "title", "order": "asc", "limit": 100},
    ):
        body = client.get("/api/tasks", params=params, headers=bob).json()
        assert [t["title"] for t in body["items"] if t["title"].startswith("Alice")] == [], params
        assert body["total"] == (0 if params.get("q") else 1), params
    past_the_end = client.get("/api/tasks", params={"offset": 5}, headers=bob).json()
    assert (past_the_end["items"], past_the_end["total"]) == ([], 1)


@pytest.mark.parametrize(("order", "expected"), [("asc", [0, 1, 2]), ("desc", [2, 1, 0])])
def test_tasks_with_equal_sort_keys_come_in_id_order_of_the_direction_asked(
    client: TestClient, alice: AuthHeaders, order: str, expected: list[int]
) -> None:
    ids = [create(client, alice, title="Same", due_date="2030-01-01")["id"] for _ in range(3)]
    for sort in ("title", "due", "priority"):
        body = client.get("/api/tasks", params={"sort": sort, "order": order}, headers=alice)
        assert [t["id"] for t in body.json()["items"]] == [ids[i] for i in expected], sort


def test_a_revoked_token_is_401_on_the_list_even_with_bad_parameters(
    client: TestClient, alice: AuthHeaders
) -> None:
    # The token is checked before the parameters, as on every authenticated route.
    assert client.post("/api/auth/logout", headers=alice).status_code == 204
    for params in ({}, {"limit": 0}, {"sort": "x"}):
        response = client.get("/api/tasks", params=params, headers=alice)
        assert response.status_code == 401, params
        assert response.json() == {"detail": "Token has been revoked"}
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("subject", ["999999", "not-an-id"])
def test_the_token_of_a_deleted_user_is_401_on_the_list(client: TestClient, subject: str) -> None:
    token = create_access_token(subject, TEST_JWT_SECRET, timedelta(minutes=5))
    for params in ({}, {"limit": 0}, {"offset": 3}):
        response = client.get(
            "/api/tasks", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, params
        assert response.json() == {"detail": "Could not validate credentials"}


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"sort": "x"}, {"status": "done"}]
)
def test_bad_list_parameters_are_422(
    client: TestClient, alice: AuthHeaders, params: dict[str, Any]
) -> None:
    assert client.get("/api/tasks", params=params, headers=alice).status_code == 422


def test_tens_of_thousands_of_tags_are_refused_by_count_at_once(
    client: TestClient, alice: AuthHeaders
) -> None:
    # 90,000 distinct tags (889 KB) used to be de-duplicated pairwise first: 43 s of CPU.
    tags = [f"t{n}" for n in range(90_000)]
    started = time.perf_counter()
    response = client.post("/api/tasks", json={"title": "x", "tags": tags}, headers=alice)
    elapsed = time.perf_counter() - started
    assert elapsed < 1
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "tags"]
    assert "at most 20 items" in error["msg"]


def test_update_refuses_more_than_the_tag_limit(client: TestClient, alice: AuthHeaders) -> None:
    task = create(client, alice)
    tags = [f"t{n}" for n in range(21)]
    response = client.patch(f"/api/tasks/{task['id']}", json={"tags": tags}, headers=alice)
    assert response.status_code == 422
    assert "at most 20 items" in response.json()["detail"][0]["msg"]


def test_twenty_tags_are_kept_in_order_without_duplicates(
    client: TestClient, alice: AuthHeaders
) -> None:
    tags = [f"t{n % 15}" for n in range(20)]
    assert create(client, alice, tags=tags)["tags"] == [f"t{n}" for n in range(15)]


ITEM_ROUTES = [
    ("GET", "/api/tasks/{id}"),
    ("PATCH", "/api/tasks/{id}"),
    ("POST", "/api/tasks/{id}/toggle"),
    ("DELETE", "/api/tasks/{id}"),
]


@pytest.mark.parametrize(("method", "path"), ITEM_ROUTES)
@pytest.mark.parametrize("task_id", [0, 2**31, 2**63, 10**30])
def test_task_ids_outside_the_id_column_range_are_422(
    client: TestClient, alice: AuthHeaders, method: str, path: str, task_id: int
) -> None:
    url = path.format(id=task_id)
    response = client.request(method, url, json={"title": "x"}, headers=alice)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["path", "task_id"]


@pytest.mark.parametrize(("method", "path"), ITEM_ROUTES)
def test_the_largest_task_id_is_simply_not_found(
    client: TestClient, alice: AuthHeaders, method: str, path: str
) -> None:
    url = path.format(id=2**31 - 1)
    response = client.request(method, url, json={"title": "x"}, headers=alice)
    assert response.status_code == 404


@pytest.mark.parametrize("offset", [2**31, 2**63, 10**30])
def test_offsets_beyond_the_integer_range_are_422(
    client: TestClient, alice: AuthHeaders, offset: int
) -> None:
    response = client.get("/api/tasks", params={"offset": offset}, headers=alice)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "offset"]


UNSTORABLE = [("\x00", "NUL"), ("\ud800", "surrogate"), ("\udfff", "surrogate")]


@pytest.mark.parametrize(("bad", "message"), UNSTORABLE)
@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"title": "a{bad}b"}, ["body", "title"]),
        ({"title": "x", "description": "a{bad}"}, ["body", "description"]),
        ({"title": "x", "tags": ["ok", "a{bad}"]}, ["body", "tags"]),
    ],
)
def test_nul_and_lone_surrogates_in_task_text_are_422(
    client: TestClient,
    alice: AuthHeaders,
    bad: str,
    message: str,
    payload: dict[str, Any],
    loc: list[str],
) -> None:
    task = create(client, alice)
    body = {
        key: [v.format(bad=bad) for v in value]
        if isinstance(value, list)
        else value.format(bad=bad)
        for key, value in payload.items()
    }
    headers = {**alice, "content-type": "application/json"}
    for method, url in (("POST", "/api/tasks"), ("PATCH", f"/api/tasks/{task['id']}")):
        # json.dumps writes \u escapes: a lone surrogate cannot be sent as UTF-8.
        response = client.request(method, url, content=json.dumps(body), headers=headers)
        assert response.status_code == 422, (method, response.text)
        [error] = response.json()["detail"]
        assert error["loc"] == loc
        assert message in error["msg"]


@pytest.mark.parametrize("param", ["q", "tag"])
def test_nul_in_search_parameters_is_422(
    client: TestClient, alice: AuthHeaders, param: str
) -> None:
    response = client.get("/api/tasks", params={param: "a\x00b"}, headers=alice)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", param]
    assert "NUL" in error["msg"]
