/**
 * Project riff's default handler name, shared by the invokers that kept its convention (java's
 * `functions.<TitleCase>`, go's exported `<TitleCase>`): `word-count` -> `WordCount`.
 */
export function titleCase(name: string): string {
  return name
    .split("-")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}
