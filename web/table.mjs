/**
 * table.mjs — a table body whose rows are keyed, so a push updates its row in place
 * (keeping focus and the place of the reader) instead of redrawing the table.
 */

export class KeyedTable {
  /**
   * @param {HTMLTableSectionElement} tbody
   * @param {Array<{text?: Function, className?: Function, build?: Function}>} columns
   *   text(item) -> string, className(item) -> string, or build(item, td) for a cell
   *   with controls (called once per row, then again on every update).
   * @param {Function} key  item -> unique string
   */
  constructor(tbody, columns, key) {
    this.tbody = tbody;
    this.columns = columns;
    this.key = key;
    this.rows = new Map();
  }

  get size() {
    return this.rows.size;
  }

  has(key) {
    return this.rows.has(key);
  }

  /** Add or update the row of `item`; a new row goes on top (newest first). */
  upsert(item) {
    const key = this.key(item);
    let tr = this.rows.get(key);
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.key = key;
      for (let i = 0; i < this.columns.length; i += 1) tr.append(document.createElement("td"));
      this.tbody.prepend(tr);
      this.rows.set(key, tr);
    }
    this.columns.forEach((column, i) => {
      const cell = tr.cells[i];
      if (column.build) {
        column.build(item, cell);
        return;
      }
      const text = column.text(item);
      if (cell.textContent !== text) cell.textContent = text;
      const className = column.className ? column.className(item) : "";
      if (cell.className !== className) cell.className = className;
    });
    return tr;
  }

  remove(key) {
    this.rows.get(key)?.remove();
    this.rows.delete(key);
  }

  clear() {
    this.tbody.replaceChildren();
    this.rows.clear();
  }
}
