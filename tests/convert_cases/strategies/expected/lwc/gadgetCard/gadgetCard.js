import { LightningElement } from 'lwc';
export default class GadgetCard extends LightningElement {}
