/** Price of a message, as Messente reports it: prices are decimal strings. */
export interface PriceInfo {
  /** Price of one part, e.g. `'0.1'`. */
  readonly partPrice: string | null;
  /** Number of parts the message was sent in. */
  readonly partsCount: number | null;
  /** Price of the whole message. */
  readonly totalPrice: string | null;
}
