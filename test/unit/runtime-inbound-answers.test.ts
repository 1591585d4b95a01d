/** Unanswered inbound requests (src/runtime/inbound-answers.ts): one timer, each request answered once. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type InboundAnswer, InboundAnswers } from '../../src/runtime/inbound-answers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const res = (status: number): InboundAnswer => ({ status, body: new Uint8Array() });

describe('inbound answers', () => {
  // The answers' timer is unref'd (a waiting request does not keep a process alive): hold the loop.
  let hold: NodeJS.Timeout;
  before(() => {
    hold = setInterval(() => {}, 1000);
  });
  after(() => clearInterval(hold));

  it('answers each request once: by the core, else with the late answer at its own deadline', async () => {
    let answers!: InboundAnswers;
    const lateIds: number[] = [];
    answers = new InboundAnswers((id) => {
      lateIds.push(id);
      answers.answer(id, res(504));
    }, 150);
    const ids: number[] = [];
    const first = answers.open((id) => ids.push(id));
    const second = answers.open((id) => ids.push(id));
    await sleep(100);
    const third = answers.open((id) => ids.push(id)); // deadline 100 ms after the others'
    assert.equal(answers.answer(ids[1], res(200)), true);
    assert.equal(answers.answer(ids[1], res(201)), false, 'never twice');
    assert.equal((await second).status, 200);
    assert.equal((await first).status, 504, 'the core never answered: the late answer');
    assert.deepEqual(lateIds, [ids[0]], 'only the request whose deadline passed');
    assert.equal(answers.size, 1);
    assert.equal((await third).status, 504, 'the later deadline is watched too (the timer re-armed)');
    assert.deepEqual(lateIds, [ids[0], ids[2]]);
    assert.equal(answers.size, 0);
  });

  it('answerAll answers everything still waiting (stop) and nothing after', async () => {
    const answers = new InboundAnswers(() => assert.fail('no request may be late'), 50);
    const p = [answers.open(() => {}), answers.open(() => {})];
    answers.answerAll(() => res(503));
    assert.deepEqual(
      (await Promise.all(p)).map((r) => r.status),
      [503, 503],
    );
    await sleep(80);
    assert.equal(answers.size, 0);
  });
});
