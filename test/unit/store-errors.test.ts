import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isConnectionLoss } from '../../activities/sql.js';
import { countsAgainstHealth, failureRow } from '../../contracts/failures.js';

const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('store connection loss', () => {
  it('is recognised by socket code, SQLSTATE and the driver\'s dropped-connection message', () => {
    for (const err of [coded('ECONNREFUSED'), coded('ECONNRESET'), coded('08006'), coded('57P01', 'terminating connection due to administrator command'), new Error('Connection terminated unexpectedly'), new AggregateError([coded('ECONNREFUSED')])]) {
      assert.equal(isConnectionLoss(err), true, `${(err as Error).message} ${(err as { code?: string }).code ?? ''}`);
    }
  });

  it('a wrong statement, a constraint or a tool\'s own error is not connection loss', () => {
    for (const err of [coded('23505', 'duplicate key'), coded('42P01', 'relation does not exist'), new Error('ticket system answered 503'), 'ECONNREFUSED', null]) {
      assert.equal(isConnectionLoss(err), false, String(err));
    }
  });

  it('the failure table retries StoreUnavailable and never counts it against a breaker', () => {
    assert.equal(failureRow('StoreUnavailable').retries, true);
    assert.equal(countsAgainstHealth('StoreUnavailable'), false);
    assert.equal(countsAgainstHealth('ToolUnavailable'), true);
  });
});
