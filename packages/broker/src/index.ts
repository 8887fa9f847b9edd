export type * from "./broker.js";
