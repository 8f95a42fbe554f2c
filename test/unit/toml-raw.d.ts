// Vite's `?raw` suffix imports a file as its exact text: the queue settings are read from wrangler.toml itself.
declare module "*.toml?raw" {
  const text: string;
  export default text;
}
