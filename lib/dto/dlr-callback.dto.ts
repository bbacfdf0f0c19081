import { Type } from 'class-transformer';
import {
  IsISO8601,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

/** `price_info` of a callback: prices are decimal strings. */
export class DlrPriceInfoDto {
  @IsOptional() @IsString() part_price?: string;
  @IsOptional() @IsInt() parts_count?: number;
  @IsOptional() @IsString() total_price?: string;
}

/**
 * A delivery-report callback as Messente posts it. Only what SPEC requires is required;
 * every other known field is type-checked when present and unknown fields are kept.
 */
export class DlrCallbackDto {
  @IsString() @IsNotEmpty() @MaxLength(255) message_id!: string;

  @Matches(/^[A-Z_]{1,32}$/, { message: 'status must be 1 to 32 upper-case letters or underscores' })
  @IsString()
  status!: string;

  @IsOptional() @IsString() @MaxLength(255) omnimessage_id?: string;
  @IsOptional() @IsString() channel?: string;
  @IsOptional() @IsString() to?: string;
  @IsOptional() @IsString() sender?: string;
  @IsOptional() @IsInt() err?: number | null;
  @IsOptional() @IsString() error?: string | null;
  @IsOptional() @IsISO8601({ strict: true }) timestamp?: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DlrPriceInfoDto)
  price_info?: DlrPriceInfoDto;
}
