import { FakeMessenteApi, type FakeMessenteApiOptions } from '../../lib/testing/index.js';

/** A FakeMessenteApi for one test file: started before all tests, reset before each, stopped after. */
export function useFakeMessenteApi(options: FakeMessenteApiOptions): {
  readonly api: FakeMessenteApi;
  apiUrl: string;
} {
  const fake = { api: new FakeMessenteApi(options), apiUrl: '' };
  beforeAll(async () => {
    fake.apiUrl = await fake.api.start();
  });
  afterAll(() => fake.api.stop());
  beforeEach(() => fake.api.reset());
  return fake;
}
