import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError, type RegistrationUpsert } from '../../../src/store/index.js';
import { tempStore, type TempStore } from './helpers.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

function binding(over: Partial<RegistrationUpsert> = {}): RegistrationUpsert {
	return {
		aor: 'sip:201@confsrv',
		contact: 'sip:201@192.168.1.20:5060;transport=udp',
		source: { address: '203.0.113.7', port: 40123, transport: 'udp' },
		expiresAt: new Date(T0 + 3_600_000),
		callId: 'a84b4c76e66710',
		cseq: 1,
		...over,
	};
}

describe('store: registrations', () => {
	let t: TempStore;
	let now = T0;
	beforeEach(() => {
		now = T0;
		t = tempStore({ now: () => now });
	});
	afterEach(() => t.cleanup());

	it('upserts a binding: a second REGISTER for the same contact refreshes it', () => {
		const first = t.store.registrations.upsert(binding());
		assert.deepEqual(first.source, { address: '203.0.113.7', port: 40123, transport: 'udp' });
		assert.equal(first.q, null);
		assert.equal(first.updatedAt.getTime(), T0);
		now += 1000;
		const second = t.store.registrations.upsert(binding({ cseq: 2, expiresAt: new Date(T0 + 7_200_000), source: { address: '203.0.113.7', port: 40999, transport: 'tcp' }, q: 0.7 }));
		assert.equal(second.cseq, 2);
		const list = t.store.registrations.listByAor('sip:201@confsrv');
		assert.equal(list.length, 1);
		assert.deepEqual(list[0], second);
		assert.equal(list[0]?.expiresAt.getTime(), T0 + 7_200_000);
		assert.equal(list[0]?.source.transport, 'tcp');
		assert.deepEqual(t.store.registrations.get('sip:201@confsrv', binding().contact), second);
	});

	it('keeps several contacts per AOR, preferred (q) first', () => {
		t.store.registrations.upsert(binding({ contact: 'sip:201@10.0.0.1', q: 0.1 }));
		t.store.registrations.upsert(binding({ contact: 'sip:201@10.0.0.2' }));
		t.store.registrations.upsert(binding({ contact: 'sip:201@10.0.0.3', q: 0.5 }));
		t.store.registrations.upsert(binding({ aor: 'sip:202@confsrv', contact: 'sip:202@10.0.0.9' }));
		assert.deepEqual(
			t.store.registrations.listByAor('sip:201@confsrv').map((b) => b.contact),
			['sip:201@10.0.0.2', 'sip:201@10.0.0.3', 'sip:201@10.0.0.1'],
		);
		assert.equal(t.store.registrations.list().length, 4);
	});

	it('hides expired bindings and purges them by expiry', () => {
		t.store.registrations.upsert(binding({ contact: 'sip:a@1', expiresAt: new Date(T0 + 10_000) }));
		t.store.registrations.upsert(binding({ contact: 'sip:b@1', expiresAt: new Date(T0 + 20_000) }));
		t.store.registrations.upsert(binding({ contact: 'sip:c@1', expiresAt: new Date(T0 + 30_000) }));
		now = T0 + 20_000;
		assert.deepEqual(
			t.store.registrations.listByAor('sip:201@confsrv').map((b) => b.contact),
			['sip:c@1'],
		);
		// Expired but not yet purged: still readable for the Call-ID/CSeq check and with list(epoch).
		assert.ok(t.store.registrations.get('sip:201@confsrv', 'sip:a@1'));
		assert.equal(t.store.registrations.list(new Date(0)).length, 3);
		assert.equal(t.store.registrations.purgeExpired(), 2);
		assert.equal(t.store.registrations.get('sip:201@confsrv', 'sip:a@1'), undefined);
		assert.equal(t.store.registrations.purgeExpired(new Date(T0 + 29_999)), 0);
		assert.equal(t.store.registrations.purgeExpired(new Date(T0 + 30_000)), 1);
		assert.equal(t.store.registrations.list(new Date(0)).length, 0);
	});

	it('survives a restart', () => {
		t.store.registrations.upsert(binding({ q: 1 }));
		const s = t.reopen();
		const [b] = s.registrations.listByAor('sip:201@confsrv');
		assert.equal(b?.callId, 'a84b4c76e66710');
		assert.equal(b?.q, 1);
		assert.equal(b?.source.port, 40123);
	});

	it('deletes one binding or all of an AOR', () => {
		t.store.registrations.upsert(binding({ contact: 'sip:a@1' }));
		t.store.registrations.upsert(binding({ contact: 'sip:b@1' }));
		t.store.registrations.upsert(binding({ aor: 'sip:202@confsrv', contact: 'sip:c@1' }));
		assert.equal(t.store.registrations.delete('sip:201@confsrv', 'sip:a@1'), true);
		assert.equal(t.store.registrations.delete('sip:201@confsrv', 'sip:a@1'), false);
		assert.equal(t.store.registrations.deleteAor('sip:201@confsrv'), 1);
		assert.equal(t.store.registrations.list().length, 1);
	});

	it('refuses bad bindings, naming the field', () => {
		const bad: Array<[Partial<RegistrationUpsert> & Record<string, unknown>, string]> = [
			[{ aor: '' }, 'aor'],
			[{ contact: '' }, 'contact'],
			[{ source: { address: '1.2.3.4', port: 70000, transport: 'udp' } }, 'source.port'],
			[{ source: { address: '1.2.3.4', port: 5060, transport: 'sctp' as 'udp' } }, 'source.transport'],
			[{ source: { address: '', port: 5060, transport: 'udp' } }, 'source.address'],
			[{ expiresAt: new Date(Number.NaN) }, 'expiresAt'],
			[{ cseq: -1 }, 'cseq'],
			[{ cseq: 2 ** 31 }, 'cseq'],
			[{ q: 1.5 }, 'q'],
			[{ callId: '' }, 'callId'],
		];
		for (const [over, field] of bad) {
			assert.throws(() => t.store.registrations.upsert(binding(over as Partial<RegistrationUpsert>)), (e: unknown) => e instanceof ValidationError && e.field === field, field);
		}
		assert.equal(t.store.registrations.list(new Date(0)).length, 0);
	});
});
