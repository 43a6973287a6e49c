import type { PeerHandle } from '../../core/handles.js';

/**
 * Bootstrapping (Jelasity, Montresor, Babaoglu, "The bootstrapping service", ICDCS Workshops 2006):
 * a cold-starting node knows only a few contact descriptors, from configuration or LAN discovery.
 * It seeds its peer sampling view with them; the push-pull exchanges of the peer sampling service
 * then fill the view with a random sample within a few cycles. A node whose view has emptied
 * (every peer it knew is gone) falls back to its contacts again.
 */
export interface ViewSeeding {
  addContacts(self: PeerHandle, contacts: readonly PeerHandle[]): void;
}

export interface BootstrapConfig {
  /** Re-seed from contacts when the view holds fewer entries than this. Default 1 (empty view). */
  minViewSize: number;
}

export class Bootstrap {
  constructor(
    private readonly sampling: ViewSeeding & { views: { size(node: PeerHandle): number } },
    readonly config: BootstrapConfig = { minViewSize: 1 },
  ) {
    if (!Number.isInteger(config.minViewSize) || config.minViewSize < 0) {
      throw new RangeError(`minViewSize must be a non-negative integer, got ${config.minViewSize}`);
    }
  }

  /** Seeds `self`'s view with its contacts (never itself). */
  join(self: PeerHandle, contacts: readonly PeerHandle[]): void {
    this.sampling.addContacts(
      self,
      contacts.filter((c) => c !== self),
    );
  }

  /** True when `self` has lost (almost) all its peers and should contact its seeds again. */
  needsContacts(self: PeerHandle): boolean {
    return this.sampling.views.size(self) < this.config.minViewSize;
  }
}
