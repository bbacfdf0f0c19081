import { ValidateBy, type ValidationOptions } from 'class-validator';
import { isIsoDateTime } from '../utils/parse-utc-timestamp.js';

/**
 * An ISO date-time with or without an offset: exactly what `DeliveryStatusChanged` can
 * turn into a `Date`, so a report never passes validation with a timestamp lost later.
 */
export function IsIsoDateTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIsoDateTime',
      validator: {
        validate: (value: unknown) => isIsoDateTime(value),
        defaultMessage: () => '$property must be an ISO date-time such as 2020-02-04T08:09:42.389630',
      },
    },
    options,
  );
}
