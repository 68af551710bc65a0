// Who owns a host file, as the guest sees it. The guest runs as root, so the
// host user megalift runs as appears as uid/gid 0 and every other owner as
// itself. chown(2) changes the host file when the host allows it (megalift
// running as root); otherwise the guest's chown is kept here, per host inode
// (st_dev, st_ino) so it follows renames and hard links, and is what stat
// reports — the guest, being root, must see its chown succeed.
import type * as fs from "node:fs";

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

export class HostOwners {
  private readonly hostUid = process.getuid?.() ?? 0;
  private readonly hostGid = process.getgid?.() ?? 0;
  private readonly recorded = new Map<string, Owner>();

  /** The owner the guest sees for a host stat. */
  of(st: fs.Stats): Owner {
    return (
      (this.recorded.size === 0 ? undefined : this.recorded.get(key(st))) ?? {
        uid: st.uid === this.hostUid ? 0 : st.uid,
        gid: st.gid === this.hostGid ? 0 : st.gid,
      }
    );
  }

  /** Keeps a chown the host refused; absent ids stay as the guest sees them now. */
  record(st: fs.Stats, uid: number | undefined, gid: number | undefined): void {
    const now = this.of(st);
    this.recorded.set(key(st), { uid: uid ?? now.uid, gid: gid ?? now.gid });
  }

  /** Host ids for a guest chown: uid/gid 0 is the host user itself. */
  hostIds(uid: number | undefined, gid: number | undefined): { uid: number; gid: number } {
    return {
      uid: uid === undefined ? -1 : uid === 0 ? this.hostUid : uid,
      gid: gid === undefined ? -1 : gid === 0 ? this.hostGid : gid,
    };
  }
}

function key(st: fs.Stats): string {
  return `${st.dev}:${st.ino}`;
}
