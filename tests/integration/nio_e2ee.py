"""What every matrix-nio client with encryption on needs, shared by
tests/integration/test_e2ee.py and tools/bench/bench_e2ee.py."""


def quiet_nio():
    """nio logs every decryption failure (the tests cause some on
    purpose; the bench's trainee sees a few while keys travel)."""
    try:
        import logbook
        logbook.NullHandler(level=logbook.WARNING).push_application()
    except ImportError:
        pass


async def nio_keys(c):
    """One round of nio's key housekeeping after a sync: upload our keys,
    query changed devices, claim one-time keys, send queued to-device
    messages (room keys)."""
    if c.should_upload_keys:
        await c.keys_upload()
    if c.should_query_keys:
        await c.keys_query()
    if c.should_claim_keys:
        await c.keys_claim(c.get_users_for_key_claiming())
    await c.send_to_device_messages()
