"""A fake Tencent Cloud SMS API (sms 2021-01-11) on 127.0.0.1 for the real SDK.

Every request's TC3-HMAC-SHA256 signature is checked as Tencent Cloud does (canonical request
over method, path, signed headers and the payload hash; key derived from the SecretKey, the
date, the service and "tc3_request"); a mismatch answers AuthFailure.SignatureFailure, a stale
timestamp AuthFailure.SignatureExpire. SendSms answers one SendStatus per number (Code "Ok" or a
per-number error code); PullSmsSendStatusByPhoneNumber lists the reports of a number.

Modes: ``fail_codes`` (per-number Code of each next SendSms), ``request_errors`` (a request-level
Error of each next SendSms), ``hang_seconds``, ``report(serial, success)`` (the carrier's report).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import uuid

from .fake_server import Answer, FakeServer, Request

SECRET_ID = "AKIDfakeTencentSecretId0123456789"
SECRET_KEY = "fake-tencent-secret-key-0123456789"
SDK_APP_ID = "1400000001"
SIGN_NAME = "临江公安"
APPROVED_TEMPLATES = {"2000110", "2000901"}


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def expected_authorization(*, method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    timestamp = int(headers["x-tc-timestamp"])
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        [
            method,
            path,
            "",
            f"content-type:{headers['content-type']}\nhost:{headers['host']}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _hmac(_hmac(_hmac(("TC3" + SECRET_KEY).encode(), date), "sms"), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


def _answer(response: dict, *, hang: float = 0.0) -> Answer:
    return Answer(200, {"Response": response}, hang=hang)


def _error(code: str, message: str) -> Answer:
    return _answer({"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())})


class FakeTencent(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.bad_signatures = 0
        self.fail_codes: list[str] = []
        self.request_errors: list[str] = []

    def answer(self, request: Request) -> Answer:
        headers = request.headers
        try:
            expected = expected_authorization(
                method=request.method, path=request.path, headers=headers, body=request.body
            )
        except (KeyError, ValueError):
            expected = None
        if expected is None or not hmac.compare_digest(headers.get("authorization", ""), expected):
            self.bad_signatures += 1
            return _error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        if abs(time.time() - int(headers["x-tc-timestamp"])) > 300:
            return _error("AuthFailure.SignatureExpire", "Signature expired.")
        action = headers.get("x-tc-action")
        self.calls.append(action)
        if headers.get("x-tc-version") != "2021-01-11":
            return _error("InvalidParameter", "version")
        params = json.loads(request.body or b"{}")
        if action == "SendSms":
            return self._send(params)
        if action == "PullSmsSendStatusByPhoneNumber":
            return self._pull(params)
        return _error("InvalidAction", f"{action} not found")

    def _send(self, params: dict) -> Answer:
        if self.request_errors:
            code = self.request_errors.pop(0)
            return _error(code, f"fake {code}")
        if params.get("SmsSdkAppId") != SDK_APP_ID:
            return _error("FailedOperation.SmsSdkAppIdVerifyFail", "app id")
        if params.get("SignName") != SIGN_NAME:
            return _error("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批")
        if params.get("TemplateId") not in APPROVED_TEMPLATES:
            return _error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批")
        values = params.get("TemplateParamSet") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return _error("InvalidParameterValue.TemplateParameterFormatError", "format")
        statuses = []
        for phone in params.get("PhoneNumberSet") or []:
            serial = f"2433:{uuid.uuid4().int % 10**20:020d}"
            code = self.fail_codes.pop(0) if self.fail_codes else "Ok"
            if code == "Ok":
                with self.lock:
                    self.messages.append(
                        {
                            "serial": serial,
                            "phone": phone,
                            "sign": params["SignName"],
                            "template": params["TemplateId"],
                            "params": values,
                            "session": params.get("SessionContext", ""),
                            "time": int(time.time()),
                            "report": None,
                        }
                    )
            statuses.append(
                {
                    "SerialNo": serial if code == "Ok" else "",
                    "PhoneNumber": phone,
                    "Fee": 1 if code == "Ok" else 0,
                    "SessionContext": params.get("SessionContext", ""),
                    "Code": code,
                    "Message": "send success" if code == "Ok" else f"fake {code}",
                    "IsoCode": "CN",
                }
            )
        return _answer({"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}, hang=self.hang_seconds)

    def _pull(self, params: dict) -> Answer:
        begin, end = params.get("BeginTime", 0), params.get("EndTime", 2**31)
        items = [
            {
                "UserReceiveTime": m["time"],
                "CountryCode": "86",
                "SubscriberNumber": m["phone"][3:],
                "PhoneNumber": m["phone"],
                "SerialNo": m["serial"],
                "ReportStatus": m["report"],
                "Description": "DELIVRD" if m["report"] == "SUCCESS" else "UNDELIV",
                "SessionContext": m["session"],
            }
            for m in self.messages
            if m["phone"] == params.get("PhoneNumber") and m["report"] and begin <= m["time"] <= end
        ]
        return _answer({"PullSmsSendStatusSet": items, "RequestId": str(uuid.uuid4())})

    def report(self, message: dict, *, success: bool = True) -> dict:
        """Mark the carrier's report and return the callback item Tencent would push."""
        message["report"] = "SUCCESS" if success else "FAIL"
        return {
            "user_receive_time": time.strftime("%Y-%m-%d %H:%M:%S"),
            "nationcode": "86",
            "mobile": message["phone"][3:],
            "report_status": message["report"],
            "errmsg": "DELIVRD" if success else "UNDELIV",
            "description": "用户短信送达成功" if success else "用户短信未送达",
            "sid": message["serial"],
        }
