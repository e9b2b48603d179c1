"""Bad input gets a clear, coded error and stores nothing."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from lafactoria.graphql.ids import encode_id
from tests.support.databases import BACKENDS, Backend
from tests.support.graphql import GENERATE, GraphQLClient, register_user
from tests.support.server import RunningServer


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Every test here runs on SQLite and on PostgreSQL."""
    value: Backend = request.param
    return value


@pytest.fixture(scope="module")
def server(backend_server: RunningServer) -> RunningServer:
    return backend_server


JOBS = "query { generationJobs(first: 100) { totalCount } }"


def generate_input(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "topic": "Photosynthesis",
        "contentType": "QUIZ",
        "audienceLevel": "HIGH_SCHOOL",
    }
    values.update(overrides)
    return {"input": values}


async def job_count(client: GraphQLClient) -> int:
    count: int = (await client.data(JOBS))["generationJobs"]["totalCount"]
    return count


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"topic": ""}, "topic", "topic must not be empty"),
        ({"topic": "   \n "}, "topic", "topic must not be empty"),
        ({"topic": "x" * 201}, "topic", "topic must be at most 200 characters"),
        ({"topic": "Cells\x00"}, "topic", "topic must not contain control characters"),
        (
            {"additionalRequirements": "y" * 2001},
            "additionalRequirements",
            "additionalRequirements must be at most 2000 characters",
        ),
    ],
)
async def test_invalid_topic_is_a_user_error_and_stores_no_job(
    server: RunningServer, overrides: dict[str, Any], field: str, message: str
) -> None:
    client = await register_user(server)

    data = await client.data(GENERATE, generate_input(**overrides))

    assert data["generateContent"] == {
        "job": None,
        "userErrors": [{"field": field, "message": message, "code": "INVALID_INPUT"}],
    }
    assert await job_count(client) == 0


async def test_topic_length_counts_characters_not_bytes(server: RunningServer) -> None:
    client = await register_user(server)
    topic = "光合作用と🌱" * 28  # 196 characters, far more than 200 bytes

    data = await client.data(GENERATE, generate_input(topic=topic))

    assert data["generateContent"]["userErrors"] == []
    assert data["generateContent"]["job"]["topic"] == topic


async def test_unknown_enum_value_is_bad_user_input(server: RunningServer) -> None:
    client = await register_user(server)

    result = await client.execute(GENERATE, generate_input(contentType="ESSAY"))

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert "ESSAY" in result.errors[0]["message"]
    assert await job_count(client) == 0


@pytest.mark.parametrize(
    "bad_id",
    [
        "not-an-id",
        "",
        "Q29udGVudA",  # "Content" with no raw id
        "VXNlcjpzb21lb25l",  # a User ID where a Content ID belongs
        "Q29udGVudDo8c2NyaXB0Pg",  # "Content:<script>"
    ],
)
async def test_malformed_ids_are_bad_user_input(server: RunningServer, bad_id: str) -> None:
    client = await register_user(server)

    result = await client.execute("query Q($id: ID!) { content(id: $id) { id } }", {"id": bad_id})

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["extensions"]["field"] == "id"
    assert result.errors[0]["path"] == ["content"]


@pytest.mark.parametrize(
    "document",
    [
        "query { viewer { id } }",
        "query { contents(first: 1) { totalCount } }",
        "query { apiKeys { id } }",
        GENERATE,
    ],
)
async def test_missing_credentials_are_unauthenticated(
    server: RunningServer, document: str
) -> None:
    result = await GraphQLClient(server).execute(document, generate_input())

    assert result.codes == ["UNAUTHENTICATED"]


async def test_garbage_token_is_unauthenticated(server: RunningServer) -> None:
    result = await GraphQLClient(server, "not.a.jwt").execute("query { viewer { id } }")

    assert result.codes == ["UNAUTHENTICATED"]
    assert result.errors is not None
    assert result.errors[0]["message"] == "the access token is not valid"


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_page_size_out_of_range_is_bad_user_input(server: RunningServer, first: int) -> None:
    client = await register_user(server)

    result = await client.execute(
        "query Q($first: Int!) { contents(first: $first) { totalCount } }", {"first": first}
    )

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == "first must be between 1 and 100"


async def test_a_null_page_size_through_a_nullable_variable_is_bad_user_input(
    server: RunningServer,
) -> None:
    # Valid GraphQL (the argument has a default), refused only while executing: found
    # masked as INTERNAL_SERVER_ERROR by a review.
    client = await register_user(server)

    result = await client.execute(
        "query Q($first: Int = 2) { contents(first: $first) { totalCount } }", {"first": None}
    )

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["extensions"]["field"] == "first"
    assert "non-null type 'Int!'" in result.errors[0]["message"]


async def test_malformed_cursor_is_bad_user_input(server: RunningServer) -> None:
    client = await register_user(server)

    result = await client.execute('query { contents(first: 5, after: "bm9wZQ") { totalCount } }')

    assert result.codes == ["BAD_USER_INPUT"]


async def test_syntax_and_validation_errors_are_coded(server: RunningServer) -> None:
    client = await register_user(server)

    syntax = await client.post_raw({"query": "query { viewer { id }"})
    unknown_field = await client.execute("query { viewer { shoeSize } }")

    assert [e["extensions"]["code"] for e in syntax["errors"]] == ["GRAPHQL_PARSE_FAILED"]
    assert unknown_field.codes == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", "long enough password", "email"),
        ("someone@example.org", "short", "password"),
    ],
)
async def test_registration_input_is_checked(
    server: RunningServer, email: str, password: str, field: str
) -> None:
    register = """
    mutation R($input: RegisterInput!) {
      register(input: $input) { user { id } userErrors { field code } }
    }
    """
    data = await GraphQLClient(server).data(
        register, {"input": {"email": email, "password": password}}
    )

    assert data["register"] == {
        "user": None,
        "userErrors": [{"field": field, "code": "INVALID_INPUT"}],
    }


async def test_duplicate_registration_differs_only_in_case(server: RunningServer) -> None:
    await register_user(server, email="grace@example.org")
    register = """
    mutation R($input: RegisterInput!) {
      register(input: $input) { user { id } userErrors { field code } }
    }
    """

    data = await GraphQLClient(server).data(
        register, {"input": {"email": " GRACE@example.org", "password": "another good password"}}
    )

    assert data["register"]["userErrors"] == [{"field": "email", "code": "CONFLICT"}]


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    server: RunningServer,
) -> None:
    await register_user(server, email="alan@example.org")
    login = """
    mutation L($input: LoginInput!) {
      login(input: $input) { accessToken userErrors { field message code } }
    }
    """
    anonymous = GraphQLClient(server)

    wrong_password = await anonymous.data(
        login, {"input": {"email": "alan@example.org", "password": "not the password"}}
    )
    unknown_email = await anonymous.data(
        login, {"input": {"email": "nobody@example.org", "password": "not the password"}}
    )

    assert wrong_password == unknown_email
    assert wrong_password["login"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"], ids=["max", "min"]
)
@pytest.mark.parametrize("listing", ["contents", "generationJobs"])
async def test_a_cursor_past_the_calendar_is_bad_user_input(
    server: RunningServer, listing: str, moment: str
) -> None:
    client = await register_user(server)
    cursor = encode_cursor_text(f"{moment}|abc")

    result = await client.execute(
        f"query($after: String) {{ {listing}(after: $after) {{ totalCount }} }}", {"after": cursor}
    )

    assert result.data is None
    assert result.errors is not None
    assert [(e["message"], e["path"], e["extensions"]) for e in result.errors] == [
        ("after is not a valid cursor", [listing], {"code": "BAD_USER_INPUT", "field": "after"})
    ]


def encode_cursor_text(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_an_unknown_job_to_cancel_names_the_job_id_argument(server: RunningServer) -> None:
    client = await register_user(server)
    missing = encode_id("GenerationJob", "0" * 32)

    data = await client.data(
        "mutation($id: ID!) { cancelGeneration(jobId: $id) { userErrors { field code } } }",
        {"id": missing},
    )

    assert data["cancelGeneration"]["userErrors"] == [{"field": "jobId", "code": "NOT_FOUND"}]


async def test_an_unused_variable_is_a_validation_error(server: RunningServer) -> None:
    client = await register_user(server)

    result = await client.execute("query($f: Int) { viewer { id } }", {"f": 1})

    assert result.codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert result.errors is not None
    assert result.errors[0]["message"] == "Variable '$f' is never used."


async def send(server: RunningServer, method: str, **options: Any) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.request(method, server.graphql_url, **options)


def request_error(message: str, code: str = "BAD_REQUEST") -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{bad", "the body is not valid JSON"),
        (b"{}", "No GraphQL query found in the request"),
        (b'{"query": 5}', "query must be a string or null"),
        (b'{"query": "{ __typename }", "variables": "x"}', "variables must be an object or null"),
        (
            b'{"query": "{ __typename }", "operationName": 5}',
            "operationName must be a string or null",
        ),
        (b'{"query": "{ __typename }", "extensions": []}', "extensions must be an object or null"),
        (b"5", "the body must be a JSON object, or an array of them for a batch"),
        (b"[5]", "operation 0 of the batch is not a JSON object"),
        (b'[{"query": 5}]', "operation 0 of the batch: query must be a string or null"),
        (b"[" * 5000 + b"]" * 5000, "the body is nested too deeply"),
    ],
)
async def test_a_body_that_is_not_a_graphql_request_is_a_coded_400(
    server: RunningServer, body: bytes, message: str
) -> None:
    response = await send(
        server, "POST", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == request_error(message)


async def test_a_get_with_variables_that_are_not_json_is_a_coded_400(
    server: RunningServer,
) -> None:
    response = await send(server, "GET", params={"query": "{ __typename }", "variables": "x"})

    assert response.status_code == 400
    assert response.json() == request_error("Unable to parse request body as JSON")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD"])
async def test_other_methods_are_a_coded_405_naming_get_and_post(
    server: RunningServer, method: str
) -> None:
    response = await send(server, method, content=b"{}")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":  # a HEAD answer has no body
        assert response.json() == request_error(
            "/graphql answers GET and POST requests", "METHOD_NOT_ALLOWED"
        )


async def test_well_formed_requests_still_run(server: RunningServer) -> None:
    single = await send(server, "POST", json={"query": "{ __typename }", "variables": None})
    batch = await send(server, "POST", json=[{"query": "{ __typename }"}] * 2)
    over_get = await send(server, "GET", params={"query": "{ __typename }"})

    assert single.json()["data"] == {"__typename": "Query"}
    assert [result["data"] for result in batch.json()] == [{"__typename": "Query"}] * 2
    assert over_get.json()["data"] == {"__typename": "Query"}
