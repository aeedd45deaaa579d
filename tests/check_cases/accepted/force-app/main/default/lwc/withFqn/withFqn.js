import { LightningElement } from "lwc";

export default class WithFqn extends LightningElement {}
