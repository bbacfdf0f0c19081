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
import { IsIsoDateTime } from '../decorators/is-iso-date-time.decorator.js';

/** `price_info` of a callback: prices are decimal strings. */
export class DlrPriceInfoDto {
  @Expose() @IsOptional() @IsString() part_price?: string;
  @Expose() @IsOptional() @IsInt() parts_count?: number;
  @Expose() @IsOptional() @IsString() total_price?: string;
}

/**
 * A delivery-report callback as Messente posts it. Only what SPEC requires is required;
 * every other known field is type-checked when present and unknown fields are kept.
 * Every field is `@Expose()`d so that transformation can skip unknown fields: a deeply
 * nested extra field must cost nothing and must not be walked recursively.
 */
export class DlrCallbackDto {
  @Expose() @IsString() @IsNotEmpty() @MaxLength(255) message_id!: string;

  @Expose()
  @Matches(/^[A-Z_]{1,32}$/, { message: 'status must be 1 to 32 upper-case letters or underscores' })
  @IsString()
  status!: string;

  @Expose() @IsOptional() @IsString() @MaxLength(255) omnimessage_id?: string;
  @Expose() @IsOptional() @IsString() channel?: string;
  @Expose() @IsOptional() @IsString() to?: string;
  @Expose() @IsOptional() @IsString() sender?: string;
  @Expose() @IsOptional() @IsInt() err?: number | null;
  @Expose() @IsOptional() @IsString() error?: string | null;
  @Expose() @IsOptional() @IsIsoDateTime() timestamp?: string;

  @Expose()
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DlrPriceInfoDto)
  price_info?: DlrPriceInfoDto;
}
