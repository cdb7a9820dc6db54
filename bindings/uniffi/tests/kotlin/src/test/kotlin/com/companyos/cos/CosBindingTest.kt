package com.companyos.cos

import java.io.File
import java.util.Base64
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/**
 * The generated Kotlin binding against the baseline pack. Behaviour is
 * tested in the crates; these tests check the mapping of types and errors.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CosBindingTest {
    private val root = File(System.getProperty("cos.root") ?: "../../../..").canonicalFile
    private val baseline = File(root, "examples/policy-packs/companyos-baseline")

    private lateinit var pack: Pack
    private lateinit var engine: Engine

    // The same input as bindings/python/tests/test_policy.py: an analyst
    // reading a CONFIDENTIAL dataset of their own tenant is allowed.
    private fun abacInput(action: String = "read") = """
        {"subject": {"id": "u1", "tenant": "acme", "roles": ["analyst"],
                     "attributes": {"clearance": "CONFIDENTIAL", "step_up": false}},
         "action": "$action",
         "resource": {"type": "dataset", "id": "d1", "tenant": "acme",
                      "classification": "CONFIDENTIAL", "residency": "EU-Only"},
         "context": {"time": "2026-11-22T10:00:00Z", "grants": []}}
    """.trimIndent()

    @BeforeAll
    fun load() {
        pack = Pack.load(baseline.path)
        engine = Engine(pack)
    }

    @AfterAll
    fun close() {
        engine.close()
        pack.close()
    }

    @Test
    fun packMetadataAndBytes() {
        val m = pack.metadata()
        assertEquals("companyos-baseline", m.name)
        assertEquals("1.0.1", m.version)
        assertEquals("2026.12.02-1", m.revision)
        assertTrue(m.digest.startsWith("sha256:"), m.digest)
        assertEquals("companyos/abac/decision", pack.entrypoints()["abac"])
        assertFalse(pack.isSigned())
        assertEquals(m, engine.pack())

        val bundle = pack.buildBundle()
        Pack.fromBytes(bundle).use { again ->
            assertEquals("companyos-baseline", again.metadata().name)
            assertArrayEquals(bundle, again.buildBundle()) // deterministic
        }
    }

    @Test
    fun evaluateAndDecide() {
        val doc = engine.evaluate("data.companyos.abac.decision", abacInput())
        assertNotNull(doc)
        assertTrue(doc!!.contains("\"allow\":true"), doc)
        // OPA semantics: an undefined document is null, not an error.
        assertNull(engine.evaluate("companyos/abac/nothing", abacInput()))

        val d = engine.decide("abac", abacInput())
        assertTrue(d.allow)
        assertEquals(emptyList<Reason>(), d.reasons)
        assertEquals("companyos/abac/decision", d.path)
        assertEquals("companyos-baseline", d.pack.name)
        assertTrue(d.decisionId.isNotEmpty())

        val denied = engine.decide("abac", abacInput(action = "delete"))
        assertFalse(denied.allow)
        assertEquals(listOf("NOT_PERMITTED"), denied.reasons.map { it.code })

        val residency = """
            {"dataset": {"id": "ds-eu-1", "classification": "CONFIDENTIAL", "residency": "EU-Only"},
             "destination": {"region": "us-east-1", "party": "internal"},
             "context": {"time": "2026-11-22T10:00:00Z"}, "purpose": "support"}
        """.trimIndent()
        assertFalse(engine.decide("residency", residency).allow)
    }

    @Test
    fun allowReason() {
        assertEquals(AllowReason(true, null), engine.allowReason("companyos/abac/decision", abacInput()))
        assertEquals(AllowReason(false, null), engine.allowReason("companyos/abac/missing", abacInput()))
    }

    @Test
    fun errorsAreTyped() {
        val missing = assertThrows<CosException.Policy> {
            Pack.load(File(root, "no/such/pack").path)
        }
        assertEquals("io", missing.code)
        assertTrue(missing.detail.isNotEmpty())

        assertThrows<CosException.Policy> { Pack.fromBytes("not a tarball".toByteArray()) }

        val unknown = assertThrows<CosException.Policy> { engine.decide("nope", abacInput()) }
        assertEquals("unknown_entrypoint", unknown.code)

        val badJson = assertThrows<CosException.Core> { engine.decide("abac", "{not json") }
        assertEquals("invalid_json", badJson.code)
    }

    @Test
    fun dsseVerifyAndTamper() {
        val key = SigningKey.generate("ecdsa-p256")
        val payload = """{"hello":"world"}""".toByteArray()
        val envelope = dsseSign(payload, "application/vnd.in-toto+json", listOf(key))

        val v = dsseVerify(envelope, listOf(key.publicPem()))
        assertArrayEquals(payload, v.payload)
        assertEquals("application/vnd.in-toto+json", v.payloadType)
        assertEquals(listOf(key.keyId()), v.keyIds)

        // Another payload under the same signature.
        val b64 = Base64.getEncoder()
        val tampered = envelope.replace(
            b64.encodeToString(payload),
            b64.encodeToString("""{"hello":"mallory"}""".toByteArray()),
        )
        val e = assertThrows<CosException.Verification> {
            dsseVerify(tampered, listOf(key.publicPem()))
        }
        assertEquals("threshold_not_met", e.code)

        val other = SigningKey.generate()
        assertThrows<CosException.Verification> { dsseVerify(envelope, listOf(other.publicPem())) }
        val wrongType = assertThrows<CosException.Verification> {
            dsseVerify(envelope, listOf(key.publicPem()), 1u, "text/plain")
        }
        assertEquals("payload_type_mismatch", wrongType.code)
        val badKey = assertThrows<CosException.Core> { dsseVerify(envelope, listOf("not a key")) }
        assertEquals("invalid_key", badKey.code)
    }
}
