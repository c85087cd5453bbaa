/**
 * Accessibility repairs for Naive UI markup, applied as elements appear:
 * - a card header carries role="heading" without aria-level (a required attribute);
 * - a modal card has role="dialog" but no accessible name: name it by its header.
 */
const HEADING = '[role="heading"]:not([aria-level])'
const DIALOG = '[role="dialog"]:not([aria-label]):not([aria-labelledby])'
let seq = 0

function fix(root: ParentNode): void {
  root.querySelectorAll(HEADING).forEach((el) => el.setAttribute('aria-level', '2'))
  root.querySelectorAll(DIALOG).forEach((dialog) => {
    const title = dialog.querySelector('.n-card-header__main, .n-dialog__title, .n-drawer-header__main')
    if (!title) return
    if (!title.id) title.id = `pc-dialog-title-${++seq}`
    dialog.setAttribute('aria-labelledby', title.id)
  })
}

export function installA11yFixes(root: HTMLElement = document.body): void {
  fix(root)
  new MutationObserver(() => fix(root)).observe(root, { subtree: true, childList: true })
}
