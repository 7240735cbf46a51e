/** The weather data node: archive files in the original sisock weather format. */
export { WeatherSource, mergeOnTime, WEATHER_FILE_SUFFIX, type WeatherSourceOptions } from './source';
export { parseWeatherFile, medianInterval, type ParsedWeatherFile, type WeatherHeader } from './format';
export { downsampleMinMax, lowerBound, type Series } from '../sdk/downsample';
export { runWeatherNode, exampleDataDir, type WeatherNodeOptions } from './node';
