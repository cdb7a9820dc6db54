"""The uniffi-generated Python binding (cos_uniffi.py + libcos_uniffi.so).

Plain stdlib unittest, no pip: bindings/uniffi/test.sh generates the module
and copies the cdylib next to it in target/uniffi/python (override with
COS_UNIFFI_PYTHON_DIR). Behaviour is tested in the crates; these tests check
the mapping of types and errors.
"""

import base64
import json
import os
import pathlib
import sys
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[4]
BASELINE = ROOT / "examples" / "policy-packs" / "companyos-baseline"
sys.path.insert(
    0, os.environ.get("COS_UNIFFI_PYTHON_DIR", str(ROOT / "target" / "uniffi" / "python"))
)

import cos_uniffi as cos  # noqa: E402  (after the path is set)

# The same input as bindings/python/tests/test_policy.py.
ABAC_INPUT = {
    "subject": {
        "id": "u1",
        "tenant": "acme",
        "roles": ["analyst"],
        "attributes": {"clearance": "CONFIDENTIAL", "step_up": False},
    },
    "action": "read",
    "resource": {
        "type": "dataset",
        "id": "d1",
        "tenant": "acme",
        "classification": "CONFIDENTIAL",
        "residency": "EU-Only",
    },
    "context": {"time": "2026-11-22T10:00:00Z", "grants": []},
}


class UniffiBindingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pack = cos.Pack.load(str(BASELINE))
        cls.engine = cos.Engine(cls.pack)

    def test_pack_metadata_and_bytes(self):
        m = self.pack.metadata()
        self.assertEqual(m.name, "companyos-baseline")
        self.assertEqual(m.version, "1.0.1")
        self.assertEqual(m.revision, "2026.12.02-1")
        self.assertTrue(m.digest.startswith("sha256:"), m.digest)
        self.assertEqual(self.pack.entrypoints()["abac"], "companyos/abac/decision")
        self.assertFalse(self.pack.is_signed())
        self.assertEqual(self.engine.pack(), m)
        bundle = self.pack.build_bundle()
        self.assertIsInstance(bundle, bytes)
        again = cos.Pack.from_bytes(bundle)
        self.assertEqual(again.metadata().name, "companyos-baseline")
        self.assertEqual(again.build_bundle(), bundle)  # deterministic

    def test_evaluate_and_decide(self):
        doc = self.engine.evaluate("data.companyos.abac.decision", json.dumps(ABAC_INPUT))
        self.assertIs(json.loads(doc)["allow"], True)
        # OPA semantics: an undefined document is None, not an error.
        self.assertIsNone(self.engine.evaluate("companyos/abac/nothing", json.dumps(ABAC_INPUT)))
        d = self.engine.decide("abac", json.dumps(ABAC_INPUT))
        self.assertIs(d.allow, True)
        self.assertEqual(d.reasons, [])
        self.assertEqual(d.path, "companyos/abac/decision")
        self.assertEqual(d.pack.name, "companyos-baseline")
        self.assertTrue(d.decision_id)
        denied = self.engine.decide("abac", json.dumps(dict(ABAC_INPUT, action="delete")))
        self.assertIs(denied.allow, False)
        self.assertEqual([r.code for r in denied.reasons], ["NOT_PERMITTED"])
        residency = {
            "dataset": {"id": "ds-eu-1", "classification": "CONFIDENTIAL", "residency": "EU-Only"},
            "destination": {"region": "us-east-1", "party": "internal"},
            "context": {"time": "2026-11-22T10:00:00Z"},
            "purpose": "support",
        }
        self.assertIs(self.engine.decide("residency", json.dumps(residency)).allow, False)

    def test_allow_reason(self):
        r = self.engine.allow_reason("companyos/abac/decision", json.dumps(ABAC_INPUT))
        self.assertEqual(r, cos.AllowReason(allow=True, reason=None))
        r = self.engine.allow_reason("companyos/abac/missing", json.dumps(ABAC_INPUT))
        self.assertEqual(r, cos.AllowReason(allow=False, reason=None))

    def test_errors_are_typed(self):
        with self.assertRaises(cos.CosError.Policy) as e:
            cos.Pack.load(str(ROOT / "no" / "such" / "pack"))
        self.assertEqual(e.exception.code, "io")
        self.assertTrue(e.exception.detail)
        self.assertIsInstance(e.exception, cos.CosError)
        with self.assertRaises(cos.CosError.Policy):
            cos.Pack.from_bytes(b"not a tarball")
        with self.assertRaises(cos.CosError.Policy) as e:
            self.engine.decide("nope", json.dumps(ABAC_INPUT))
        self.assertEqual(e.exception.code, "unknown_entrypoint")
        with self.assertRaises(cos.CosError.Core) as e:
            self.engine.decide("abac", "{not json")
        self.assertEqual(e.exception.code, "invalid_json")

    def test_dsse_verify_and_tamper(self):
        key = cos.SigningKey.generate("ecdsa-p256")
        payload = b'{"hello":"world"}'
        envelope = cos.dsse_sign(payload, "application/vnd.in-toto+json", [key])
        v = cos.dsse_verify(envelope, [key.public_pem()])
        self.assertEqual(v.payload, payload)
        self.assertEqual(v.payload_type, "application/vnd.in-toto+json")
        self.assertEqual(v.key_ids, [key.key_id()])

        env = json.loads(envelope)
        env["payload"] = base64.b64encode(b'{"hello":"mallory"}').decode()
        with self.assertRaises(cos.CosError.Verification) as e:
            cos.dsse_verify(json.dumps(env), [key.public_pem()])
        self.assertEqual(e.exception.code, "threshold_not_met")

        other = cos.SigningKey.generate()
        with self.assertRaises(cos.CosError.Verification):
            cos.dsse_verify(envelope, [other.public_pem()])
        with self.assertRaises(cos.CosError.Verification) as e:
            cos.dsse_verify(envelope, [key.public_pem()], payload_type="text/plain")
        self.assertEqual(e.exception.code, "payload_type_mismatch")
        with self.assertRaises(cos.CosError.Core) as e:
            cos.dsse_verify(envelope, ["not a key"])
        self.assertEqual(e.exception.code, "invalid_key")


if __name__ == "__main__":
    unittest.main()
