/** The reference data as the demo server exposes it: files under /data/, folder listings as JSON. */

/** Bytes of a file of the data directory (`cifar10/test_batch.bin`). */
export async function fetchData(relative: string): Promise<Uint8Array> {
  const response = await fetch(`/data/${relative}`);
  if (!response.ok) throw new Error(`data file ${relative}: ${response.status} ${await response.text()}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Text of a file of the data directory. */
export async function fetchDataText(relative: string): Promise<string> {
  return new TextDecoder().decode(await fetchData(relative));
}

/** File names of a folder of the data directory. */
export async function listData(folder: string): Promise<string[]> {
  const response = await fetch(`/data/${folder}/`);
  if (!response.ok) throw new Error(`data folder ${folder}: ${response.status} ${await response.text()}`);
  return (await response.json()) as string[];
}
