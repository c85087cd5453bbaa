/**
 * Naive UI's card header carries role="heading" without aria-level (a required attribute),
 * which screen readers and axe reject. Give every such heading a level as it appears.
 */
const SELECTOR = '[role="heading"]:not([aria-level])'

function fix(root: ParentNode): void {
  root.querySelectorAll(SELECTOR).forEach((el) => el.setAttribute('aria-level', '2'))
}

export function installHeadingLevels(root: HTMLElement = document.body): void {
  fix(root)
  new MutationObserver(() => fix(root)).observe(root, { subtree: true, childList: true })
}
