/**
 * Commands from the node's user (CLI, local API, library): start, send, invite, add, accept, … —
 * one switch that hands each to its handler. Split out of node.ts to keep the core class about
 * events and effects.
 */
import { MeshError } from '../errors.ts';
import type { CoreContext } from './context.ts';
import type { Command } from './events.ts';
import { acceptRequest, rejectRequest, startAdd, startBootstrap } from './handlers/contact-request.ts';
import { startDialback } from './handlers/dialback.ts';
import { inviteCommand } from './handlers/first-contact.ts';
import { flushOutbox, queueMessage, retryOutbox } from './handlers/message.ts';
import { channelChanged } from './handlers/path.ts';
import { announceAll, announceTo } from './handlers/presence.ts';
import { startPunch } from './handlers/punch.ts';
import { removeContact } from './handlers/remove.ts';
import { setLocal, setMapping } from './observed.ts';

/** Runs one user command; its outcome goes out as a `result` or `fail` effect for `commandId`. */
export function runCommand(core: CoreContext, commandId: number, cmd: Command): void {
  try {
    switch (cmd.kind) {
      case 'start':
        core.state.started = true;
        announceAll(core, true);
        startDialback(core);
        retryOutbox(core);
        if (core.cfg.announceIntervalMs > 0)
          core.setTimer({ kind: 'announce' }, core.now + core.cfg.announceIntervalMs);
        core.setTimer({ kind: 'sweep' }, core.now + core.cfg.sweepIntervalMs);
        return core.result(commandId, { uuid: core.self.uuid });
      case 'address': {
        // The local interface address (§15.2): what we advertise follows from it and what
        // contacts observed; a change announces through the IP-change flow.
        const changed = setLocal(core, cmd.addresses[0] ?? null, cmd.mapping);
        return core.result(commandId, { address: core.state.address, changed });
      }
      case 'mapping':
        setMapping(core, cmd.external);
        return core.result(commandId, { address: core.state.address });
      case 'send':
        return core.result(commandId, { id: queueMessage(core, cmd.to, cmd.text) });
      case 'invite':
        return core.result(commandId, inviteCommand(core, cmd.ttlMs, cmd.addresses, cmd.domain ?? null));
      case 'add':
        return startAdd(core, commandId, cmd.code, cmd.name);
      case 'bootstrap':
        return startBootstrap(core, commandId, cmd.address, cmd.domain);
      case 'accept':
        return core.result(commandId, acceptRequest(core, cmd.uuid));
      case 'reject':
        return core.result(commandId, rejectRequest(core, cmd.uuid));
      case 'remove':
        return core.result(commandId, removeContact(core, cmd.uuid));
      case 'flush': {
        const c = core.state.contacts.get(cmd.uuid);
        if (c) flushOutbox(core, c);
        return core.result(commandId, { uuid: cmd.uuid });
      }
      case 'punch': {
        const c = core.state.contacts.get(cmd.uuid);
        if (!c) return core.fail(commandId, 'CONTACT_UNKNOWN', `No contact ${cmd.uuid}; see mesh contacts`);
        return core.result(commandId, startPunch(core, c));
      }
      case 'reannounce': {
        const c = core.state.contacts.get(cmd.uuid);
        if (c) {
          announceTo(core, c, false);
          flushOutbox(core, c);
        }
        return core.result(commandId, { uuid: cmd.uuid });
      }
      case 'channel':
        channelChanged(core, cmd.uuid, cmd.open);
        return core.result(commandId, { uuid: cmd.uuid });
    }
  } catch (e) {
    if (e instanceof MeshError) return core.fail(commandId, e.code, e.message);
    throw e;
  }
}
