/** Tiny DOM helpers: the page has no framework. */
export function byId<T extends HTMLElement = HTMLElement> (id: string): T {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`#${id} missing from the page`)
  return element as T
}

export function el<K extends keyof HTMLElementTagNameMap> (
  tag: K,
  props: { className?: string, text?: string, attrs?: Record<string, string> } = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (props.className !== undefined) element.className = props.className
  if (props.text !== undefined) element.textContent = props.text
  for (const [key, value] of Object.entries(props.attrs ?? {})) element.setAttribute(key, value)
  element.append(...children)
  return element
}
