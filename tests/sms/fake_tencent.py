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
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class FakeTencent:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.calls: list[str] = []
        self.bad_signatures = 0
        self.fail_codes: list[str] = []
        self.request_errors: list[str] = []
        self.hang_seconds = 0.0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, response: dict) -> None:
                data = json.dumps({"Response": response}, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, code: str, message: str) -> None:
                self._answer({"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    expected = expected_authorization(method="POST", path=self.path, headers=headers, body=body)
                except (KeyError, ValueError):
                    expected = None
                if expected is None or not hmac.compare_digest(headers.get("authorization", ""), expected):
                    fake.bad_signatures += 1
                    return self._error(
                        "AuthFailure.SignatureFailure", "The provided credentials could not be validated."
                    )
                if abs(time.time() - int(headers["x-tc-timestamp"])) > 300:
                    return self._error("AuthFailure.SignatureExpire", "Signature expired.")
                action = headers.get("x-tc-action")
                fake.calls.append(action)
                if headers.get("x-tc-version") != "2021-01-11":
                    return self._error("InvalidParameter", "version")
                params = json.loads(body or b"{}")
                if action == "SendSms":
                    return self._send(params)
                if action == "PullSmsSendStatusByPhoneNumber":
                    return self._pull(params)
                return self._error("InvalidAction", f"{action} not found")

            def _send(self, params):
                if fake.request_errors:
                    code = fake.request_errors.pop(0)
                    return self._error(code, f"fake {code}")
                if params.get("SmsSdkAppId") != SDK_APP_ID:
                    return self._error("FailedOperation.SmsSdkAppIdVerifyFail", "app id")
                if params.get("SignName") != SIGN_NAME:
                    return self._error("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批")
                if params.get("TemplateId") not in APPROVED_TEMPLATES:
                    return self._error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批")
                values = params.get("TemplateParamSet") or []
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    return self._error("InvalidParameterValue.TemplateParameterFormatError", "format")
                statuses = []
                for phone in params.get("PhoneNumberSet") or []:
                    serial = f"2433:{uuid.uuid4().int % 10**20:020d}"
                    code = fake.fail_codes.pop(0) if fake.fail_codes else "Ok"
                    if code == "Ok":
                        with fake.lock:
                            fake.messages.append(
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
                if fake.hang_seconds:
                    time.sleep(fake.hang_seconds)
                try:
                    self._answer({"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())})
                except OSError:
                    pass

            def _pull(self, params):
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
                    for m in fake.messages
                    if m["phone"] == params.get("PhoneNumber") and m["report"] and begin <= m["time"] <= end
                ]
                self._answer({"PullSmsSendStatusSet": items, "RequestId": str(uuid.uuid4())})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeTencent:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

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
