/**
 * A callback body that passed validation: the JSON object exactly as Messente sent it, frozen.
 * The webhook's pipe produces it; intake, stores and the status service consume it.
 */
export type DlrPayload = Readonly<Record<string, unknown>>;
