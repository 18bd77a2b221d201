"""One-tap acknowledge links (`<public_url>/a/<token>` in every notification).

GET only shows a confirm button: chat and SMS apps fetch links to build previews, and a GET that
acknowledged would do it before the farmer ever saw the message. The button POSTs back to the same
URL; the token (HMAC-signed, expiring, naming alert, site and recipient: ruongso/ack_tokens.py) is
the whole authorisation, so no login is needed on a phone.
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse

from api.deps import ContextDep, RegistryDep
from registry import alert_actions
from registry.alert_control import control_payload, control_topic
from registry.db import NotFound
from ruongso.ack_tokens import AckClaim, AckSecretError, AckTokenError, verify

router = APIRouter(tags=["acknowledge links"])
Token = Annotated[str, Path(min_length=10, max_length=400, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]

_PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Ruộng Số</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em">{body}</body></html>"""

_REFUSED = {
    "expired": (410, "Liên kết đã hết hạn.", "This link has expired."),
    "bad_signature": (403, "Liên kết không hợp lệ.", "This link is not valid."),
    "malformed": (403, "Liên kết không hợp lệ.", "This link is not valid."),
}


def _page(status: int, body: str) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status)


def _claim(ctx: ContextDep, token: str) -> AckClaim | HTMLResponse:
    try:
        return verify(ctx.settings.ack_secret or "", token)
    except AckSecretError:
        return _page(404, "<p>Máy chủ chưa bật xác nhận nhanh.</p>"
                          "<p>Acknowledge links are not enabled here (RUONGSO_ACK_SECRET).</p>")
    except AckTokenError as exc:
        status, vi, en = _REFUSED.get(exc.reason, _REFUSED["malformed"])
        return _page(status, f"<p><b>{vi}</b></p><p>{en}</p>")


@router.get("/a/{token}", response_class=HTMLResponse, summary="Confirm page of a one-tap acknowledge link")
def confirm_page(token: Token, ctx: ContextDep) -> HTMLResponse:
    claim = _claim(ctx, token)
    if isinstance(claim, HTMLResponse):
        return claim
    return _page(200, (
        f"<p>Cảnh báo <b>{html.escape(claim.alert_id)}</b> tại <b>{html.escape(claim.site)}</b>.</p>"
        f'<form method="post" action="/a/{html.escape(token)}">'
        '<button type="submit" style="font-size:1.3em;padding:.6em 1.2em">Tôi đã xử lý — xác nhận</button>'
        "</form><p style=\"color:#666\">Acknowledge this alert.</p>"
    ))


@router.post("/a/{token}", response_class=HTMLResponse, summary="Acknowledge the alert a link names")
def acknowledge_by_link(token: Token, ctx: ContextDep, conn: RegistryDep) -> HTMLResponse:
    claim = _claim(ctx, token)
    if isinstance(claim, HTMLResponse):
        return claim
    try:
        alert_actions.acknowledge(conn, claim.site, claim.alert_id, f"ack-link:{claim.recipient}")
    except NotFound:
        return _page(404, "<p>Không tìm thấy điểm sản xuất của cảnh báo này.</p><p>Unknown site.</p>")
    published = ctx.publisher.publish(control_topic(claim.site), control_payload(conn, claim.site))
    ctx.metrics.control_published.labels("ok" if published else "failed").inc()
    return _page(200, "<p><b>Đã xác nhận. Cảm ơn!</b></p><p>Acknowledged. Thank you.</p>")
