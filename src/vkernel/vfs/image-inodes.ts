// st_ino for the image Vfs: a number per path, handed out on first use and
// kept while the path exists, so stat(2) of the same path always gives the
// same inode (find(1), cp(1) and tar(1) compare st_dev/st_ino pairs). A
// path created after a delete gets a new number, as a new inode would.
export class ImageInodes {
  private readonly byPath = new Map<string, number>();
  /** 1 is left unused and 2 goes to "/", as on ext4. */
  private next = 2;

  of(path: string): number {
    let ino = this.byPath.get(path);
    if (ino === undefined) this.byPath.set(path, (ino = this.next++));
    return ino;
  }

  fresh(path: string): number {
    const ino = this.next++;
    this.byPath.set(path, ino);
    return ino;
  }

  /** rename(2) keeps the inode: the numbers follow the moved paths. */
  move(from: string, to: string): void {
    const prefix = `${from}/`;
    for (const [path, ino] of [...this.byPath]) {
      if (path === from) this.byPath.set(to, ino);
      else if (path.startsWith(prefix)) this.byPath.set(to + path.slice(from.length), ino);
    }
  }
}
