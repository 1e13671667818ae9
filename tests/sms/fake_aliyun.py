"""A fake Aliyun SMS API (dysmsapi 2017-05-25, RPC style) on 127.0.0.1 for the real SDK.

It checks the V3 signature (ACS3-HMAC-SHA256) of every request exactly as Aliyun's gateway does:
the canonical request (method, path, sorted query, the signed headers, the hashed payload)
hashed and signed with the AccessKey secret; a mismatch answers 400 SignatureDoesNotMatch.
SendSms answers ``{"Code": "OK", "BizId": …}`` or an error code; QuerySendDetails lists what was
sent to a number on a day, with OutId and SendStatus.

Modes: ``fail_codes`` (each next SendSms answers that Code instead), ``hang_seconds`` (store the
message, then sleep: the client times out), ``set_status(biz_id, 3)`` (the carrier's report).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import parse_qsl, quote, urlparse

from .fake_server import Answer, FakeServer, Request

ACCESS_KEY_ID = "LTAI5tFakeAccessKeyId01"
ACCESS_KEY_SECRET = "fake-aliyun-secret-0123456789abcdef"
SIGN_NAME = "临江公安"
APPROVED_TEMPLATES = {"SMS_480000110", "SMS_480000901"}


def _json(status: int, document: dict) -> Answer:
    return Answer(status, document, content_type="application/json;charset=utf-8")


def _canonical_query(query: dict[str, str]) -> str:
    return "&".join(f"{k}={quote(query[k], safe='~')}" for k in sorted(query))


def expected_authorization(*, method: str, path: str, query: dict[str, str], headers: dict[str, str], signed: str):
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed.split(";"))
    canonical = "\n".join(
        [method, path or "/", _canonical_query(query), canonical_headers, signed, headers["x-acs-content-sha256"]]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(ACCESS_KEY_SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return f"ACS3-HMAC-SHA256 Credential={ACCESS_KEY_ID},SignedHeaders={signed},Signature={signature}"


class FakeAliyun(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.bad_signatures = 0
        self.fail_codes: list[str] = []

    def answer(self, request: Request) -> Answer:
        url = urlparse(request.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = request.headers
        request_id = str(uuid.uuid4()).upper()
        auth = headers.get("authorization", "")
        signed = auth.split("SignedHeaders=")[-1].split(",")[0] if "SignedHeaders=" in auth else ""
        payload_ok = headers.get("x-acs-content-sha256") == hashlib.sha256(request.body).hexdigest()
        required = {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"}
        if (
            not payload_ok
            or not required <= set(signed.split(";"))
            or not hmac.compare_digest(
                auth,
                expected_authorization(
                    method=request.method, path=url.path, query=query, headers=headers, signed=signed
                ),
            )
        ):
            self.bad_signatures += 1
            return _json(
                400,
                {
                    "RequestId": request_id,
                    "Code": "SignatureDoesNotMatch",
                    "Message": "Specified signature is not matched with our calculation.",
                },
            )
        action = headers.get("x-acs-action")
        self.calls.append(action)
        if headers.get("x-acs-version") != "2017-05-25":
            return _json(400, {"RequestId": request_id, "Code": "InvalidVersion", "Message": "version"})
        if action == "SendSms":
            return self._send(query, request_id)
        if action == "QuerySendDetails":
            return self._query(query, request_id)
        return _json(404, {"RequestId": request_id, "Code": "InvalidAction.NotFound", "Message": "?"})

    def _send(self, query: dict[str, str], request_id: str) -> Answer:
        def refuse(code: str, message: str) -> Answer:
            return _json(200, {"RequestId": request_id, "Code": code, "Message": message})

        if self.fail_codes:
            code = self.fail_codes.pop(0)
            return refuse(code, f"fake {code}")
        if query.get("SignName") != SIGN_NAME:
            return refuse("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法")
        if query.get("TemplateCode") not in APPROVED_TEMPLATES:
            return refuse("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法")
        try:
            params = json.loads(query.get("TemplateParam") or "{}")
        except ValueError:
            return refuse("isv.INVALID_JSON_PARAM", "JSON")
        if not isinstance(params, dict) or any(len(str(v)) > 35 for v in params.values()):
            return refuse("isv.PARAM_LENGTH_LIMIT", "长度")
        phone = query.get("PhoneNumbers", "")
        if not (len(phone) == 11 and phone.isdigit() and phone.startswith("1")):
            return refuse("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        message = {
            "biz_id": f"{int(time.time() * 1000) % 10**12:012d}^{uuid.uuid4().int % 10**8:08d}",
            "phone": phone,
            "sign": query["SignName"],
            "template": query["TemplateCode"],
            "params": params,
            "out_id": query.get("OutId", ""),
            "send_date": time.strftime("%Y%m%d"),
            "send_time": time.strftime("%Y-%m-%d %H:%M:%S"),
            "status": 1,
        }
        with self.lock:
            self.messages.append(message)
        answer = _json(200, {"RequestId": request_id, "Code": "OK", "Message": "OK", "BizId": message["biz_id"]})
        answer.hang = self.hang_seconds
        return answer

    def _query(self, query: dict[str, str], request_id: str) -> Answer:
        items = [
            m
            for m in self.messages
            if m["phone"] == query.get("PhoneNumber")
            and m["send_date"] == query.get("SendDate")
            and (not query.get("BizId") or m["biz_id"] == query["BizId"])
        ]
        dtos = [
            {
                "PhoneNum": m["phone"],
                "SendStatus": m["status"],
                "ErrCode": "DELIVERED" if m["status"] == 3 else "",
                "TemplateCode": m["template"],
                "Content": f"【{m['sign']}】…",
                "SendDate": m["send_time"],
                "ReceiveDate": m["send_time"] if m["status"] == 3 else "",
                "OutId": m["out_id"],
            }
            for m in items
        ]
        return _json(
            200,
            {
                "RequestId": request_id,
                "Code": "OK",
                "Message": "OK",
                "TotalCount": len(dtos),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos},
            },
        )

    def set_status(self, biz_id: str, status: int) -> None:
        for message in self.messages:
            if message["biz_id"] == biz_id:
                message["status"] = status

    def report(self, message: dict, *, success: bool = True, code: str = "DELIVERED") -> dict:
        """The SmsReport item Aliyun would push for a message."""
        return {
            "phone_number": message["phone"],
            "send_time": message["send_time"],
            "report_time": time.strftime("%Y-%m-%d %H:%M:%S"),
            "success": success,
            "err_code": code,
            "err_msg": "用户接收成功" if success else "失败",
            "sms_size": "1",
            "biz_id": message["biz_id"],
            "out_id": message["out_id"],
        }
