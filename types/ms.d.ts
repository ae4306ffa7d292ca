// The `ms` release the Temporal SDK pins ships its types at a path its `exports` map does not name, so NodeNext
// resolution cannot see them; this declares the one call Governor makes.
declare module 'ms' {
  export default function ms(value: string): number;
}
