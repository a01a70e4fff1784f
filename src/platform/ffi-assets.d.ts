// Type of Bun file-asset imports (`with { type: "file" }`): the asset's path.
declare module "*.so" {
  const path: string;
  export default path;
}
