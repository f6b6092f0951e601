/**
 * Reads that are drained at once (toArray) ask for their whole answer in the first batch.
 *
 * On the embedded FerretDB an open cursor holds one of its 100 SQLite connections until the
 * client's next getMore. A first batch that ends exactly at the last document (batchSize equal to
 * the count), or any answer over the default 101 documents, leaves a cursor open for a round trip.
 * A burst of such reads (1,000 group members connecting at once: each lists its conversations)
 * took every connection while updates waited for one with their collection lock held, the
 * getMores that would have freed them queued behind those updates in the driver's pool, and the
 * database stopped answering. One batch also saves the getMore round trip. MongoDB caps a batch
 * at 16 MB whatever is asked, so this changes nothing there but the round trips.
 */
export const ONE_BATCH = { batchSize: 100_000 } as const;
