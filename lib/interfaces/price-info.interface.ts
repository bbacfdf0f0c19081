/** Price of a message, as Messente reports it: prices are decimal strings. */
export interface PriceInfo {
  readonly partPrice: string | null;
  readonly partsCount: number | null;
  readonly totalPrice: string | null;
}
