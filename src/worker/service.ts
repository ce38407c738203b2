import type { Channel, ChannelEvent, ChannelRequest } from '../protocol';

/** How a service posts its channel's events to the page (images' buffers transferred, not copied). */
export type Post<C extends Channel> = (message: ChannelEvent<C>, transfer?: Transferable[]) => void;

/**
 * A worker service: constructed with everything it needs, it handles the requests of its own channel
 * and nothing else. The Engine routes each request to the service of its channel and reports a
 * failure on that channel; adding a channel adds a service and touches no other.
 */
export interface ChannelService<C extends Channel = Channel> {
  readonly channel: C;
  handle(request: ChannelRequest<C>): Promise<void> | void;
}
