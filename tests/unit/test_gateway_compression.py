"""gzip of the API's answers (gateway.compression): large JSON to clients that take
gzip, with Vary; never the SSE stream, files already compressed or small answers."""
import gzip
import json

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from gateway.compression import MIN_BYTES, gzip_answer

BIG = json.dumps({"items": [{"id": i, "name": "CSCom central de Niono"} for i in range(200)]})


def request(accept="gzip, deflate, br", method="GET"):
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    return Request(EnvironBuilder(method=method, headers=headers).get_environ())


def answer(body=BIG, content_type="application/json; charset=utf-8", **kwargs):
    return Response(body, content_type=content_type, **kwargs)


def test_large_json_is_gzipped_for_clients_that_take_it():
    response = answer()
    gzip_answer(request(), response)
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert gzip.decompress(response.get_data()).decode("utf-8") == BIG
    assert int(response.headers["Content-Length"]) == len(response.get_data()) < len(BIG)
    problem = answer(content_type="application/problem+json")
    gzip_answer(request(), problem)
    assert problem.headers["Content-Encoding"] == "gzip"


def test_not_gzipped_unless_asked_but_always_varies():
    for accept in (None, "identity", "gzip;q=0", "br"):
        response = answer()
        gzip_answer(request(accept), response)
        assert "Content-Encoding" not in response.headers, accept
        assert response.get_data(as_text=True) == BIG
        assert "Accept-Encoding" in response.headers["Vary"]


def test_small_answers_streams_files_and_encoded_bodies_are_left_alone():
    small = answer(body="x" * (MIN_BYTES - 1))
    gzip_answer(request(), small)
    assert "Content-Encoding" not in small.headers

    events = Response(iter([b"data: 1\n\n"]), mimetype="text/event-stream",
                      direct_passthrough=True)
    gzip_answer(request(), events)
    assert "Content-Encoding" not in events.headers and "Vary" not in events.headers

    for kind in ("image/jpeg", "application/pdf", "text/html; charset=utf-8"):
        response = answer(body=b"\xff" * 5000, content_type=kind)
        gzip_answer(request(), response)
        assert "Content-Encoding" not in response.headers, kind

    already = answer(body=gzip.compress(BIG.encode()), headers={"Content-Encoding": "gzip"})
    before = already.get_data()
    gzip_answer(request(), already)
    assert already.get_data() == before


def test_no_content_and_head_answers_are_not_compressed():
    gzip_answer(request(method="HEAD"), head := answer())
    assert "Content-Encoding" not in head.headers
    gzip_answer(request(), none := Response(status=204))
    assert "Content-Encoding" not in none.headers
