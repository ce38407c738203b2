import { explainFailure } from '../engine/failures';
import type { Channel, FromEngine, ToEngine } from '../protocol';
import type { ChannelService } from './service';

/**
 * The engine behind the worker: routes each of the page's requests to the service of its channel
 * and reports a failure on that channel — nothing else. The services and what they share are built
 * in `services.ts`. Pure logic with a `post` callback, so it runs without a Worker too.
 */
export class Engine {
  private readonly routes = new Map<Channel, ChannelService>();

  constructor(
    private readonly post: (m: FromEngine, transfer?: Transferable[]) => void,
    services: readonly ChannelService[],
  ) {
    for (const s of services) {
      if (this.routes.has(s.channel)) throw new Error(`two services for the '${s.channel}' channel`);
      this.routes.set(s.channel, s);
    }
  }

  /** Handles one message; a failure is reported on the message's own channel. */
  async handle(msg: ToEngine): Promise<void> {
    try {
      const service = this.routes.get(msg.channel);
      if (!service) throw new Error(`no service handles the '${msg.channel}' channel`);
      await service.handle(msg);
    } catch (err) {
      this.post({ channel: msg.channel, type: 'error', message: explainFailure(err) });
    }
  }
}
