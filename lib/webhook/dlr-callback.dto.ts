import { Expose, Type } from 'class-transformer';
import {
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsIsoDateTime } from './is-iso-date-time.decorator.js';

/** `price_info` of a callback: prices are decimal strings. @internal */
export class DlrPriceInfoDto {
  /** Price of one part, a decimal string. */
  @Expose() @IsOptional() @IsString() part_price?: string;
  /** Number of parts. */
  @Expose() @IsOptional() @IsInt() parts_count?: number;
  /** Price of the whole message, a decimal string. */
  @Expose() @IsOptional() @IsString() total_price?: string;
}

/**
 * A delivery-report callback as Messente posts it. Only what SPEC requires is required;
 * every other known field is type-checked when present and unknown fields are kept.
 * Every field is `@Expose()`d so that transformation can skip unknown fields: a deeply
 * nested extra field must cost nothing and must not be walked recursively.
 *
 * @internal The webhook's validation rules; the app receives `DeliveryStatusChanged`.
 */
export class DlrCallbackDto {
  /** Messente's id of the message on one channel. */
  @Expose() @IsString() @IsNotEmpty() @MaxLength(255) message_id!: string;

  /** The new status. */
  @Expose()
  @Matches(/^[A-Z_]{1,32}$/, { message: 'status must be 1 to 32 upper-case letters or underscores' })
  @IsString()
  status!: string;

  /** Id of the multi-channel send. */
  @Expose() @IsOptional() @IsString() @MaxLength(255) omnimessage_id?: string;
  /** `sms`, `viber`, `whatsapp`, `rcs`, ... */
  @Expose() @IsOptional() @IsString() channel?: string;
  /** Recipient phone number. */
  @Expose() @IsOptional() @IsString() to?: string;
  /** Sender name. */
  @Expose() @IsOptional() @IsString() sender?: string;
  /** Error code, `0` for none. */
  @Expose() @IsOptional() @IsInt() err?: number | null;
  /** Error text, or null. */
  @Expose() @IsOptional() @IsString() error?: string | null;
  /** When the status changed (UTC, usually without an offset). */
  @Expose() @IsOptional() @IsIsoDateTime() timestamp?: string;

  /** Price of the message. */
  @Expose()
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DlrPriceInfoDto)
  price_info?: DlrPriceInfoDto;
}
