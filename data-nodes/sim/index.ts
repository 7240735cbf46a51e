/** The sim data node: simulated HV/LV supplies and a sensor, controllable over WAMP. */
export { SimSource, SIM_TIMELINE, simFieldSpecs, type SimOptions } from './source';
export { SimModel, HV_SPEC, LV_SPEC, SUPPLIES, type SupplyName, type SupplySpec, type ChannelState, type ChannelSettings } from './model';
export { runSimNode, type SimNodeOptions } from './node';
