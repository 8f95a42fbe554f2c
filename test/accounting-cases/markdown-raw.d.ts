// Vite's `?raw` suffix imports a file as its exact text: the doc test compares the committed Markdown.
declare module "*.md?raw" {
  const text: string;
  export default text;
}
